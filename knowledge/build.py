"""Builds the matcher's index: every enabled entry turned into flat arrays, in two passes over chunks.

Pass 1 segments each text in Python and, per chunk of entries, turns the chunk's CJK runs into n-gram keys
and counts (text, term) rows with numpy. Pass 2 computes BM25F pseudo-frequencies per entry, splits each
term's postings into its strongest (where retrieval finds candidates) and the rest (which complete the
candidates' scores), and the per-entry term arrays the re-ranker reads. Nothing per entry or per
phrasing is kept as a Python object, so 100k entries fit in a few hundred megabytes.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np

from knowledge.allocator import map_large_buffers
from knowledge.compiled import speedups as _speedups
from knowledge.index import NGRAM_SHIFT, Postings, Vocabulary, bm25f_frequencies, strongest_and_rest
from knowledge.model import Entry
from knowledge.question_types import offered, topics
from knowledge.synonyms import SYNONYM_WORDS, with_synonyms
from knowledge.text import Segmenter, normalise

if TYPE_CHECKING:
    from knowledge.matcher import ScoringWeights

# Fields of an entry, in the order of ScoringWeights' boosts.
_PHRASINGS, _KEYWORDS, _CATEGORY, _ANSWER = 0, 1, 2, 3
# Texts turned into rows per numpy batch: large enough to amortise, small enough for memory; a chunk's
# groups must stay below 2**(63 - _GROUP_SHIFT).
_CHUNK = 20_000
_WORD_KEY = 1 << 42  # n-gram keys are below: two 21-bit code points
_GROUP_SHIFT = 43
_SETTLE = 4  # chunks between two choices of each term's strongest rows so far


@dataclass(frozen=True)
class Index:
    """What a query reads. Per-entry and per-phrasing lists are flat, located by offsets; the offsets a query
    reads one number at a time are Python arrays, where numpy scalars would be slow."""

    vocabulary: Vocabulary
    postings: Postings  # each term's strongest entries, at most `postings_per_term`: candidates come from these
    tails: Postings  # the rest of a common term's entries: they complete the scores of the candidates found
    entry_terms: np.ndarray  # per entry, the terms of its answer and phrasings,
    entry_slots: np.ndarray  # and the text each comes from: 0 the answer, 1, 2 … its phrasings
    term_offsets: array  # where each entry's terms start in those two
    phrasing_starts: array  # each entry's first phrasing number
    phrasing_total: np.ndarray  # per phrasing, its IDF mass (1 where it has none)
    phrasing_divisors: np.ndarray  # per phrasing, its unigram and bigram mass (infinite where none)
    texts: str  # the phrasings, compact, as one string
    text_offsets: array
    keywords: str  # per entry, its compact keywords one per line, as one string
    keyword_offsets: array
    categories: str  # per entry, the parts of its category one per line: 卡片|KOKO(PLAY/NBA) → 卡片, koko, play, nba
    category_offsets: array
    topics: str  # per entry, its phrasings without question words (`question_types.topics`), one per line
    topic_offsets: array
    question_types: array  # per entry, what its phrasings offer (`question_types.offered`): 8 bits, one byte
    idf: array  # per term
    kinds: array


def build_index(entries: Sequence[Entry], segmenter: Segmenter, w: ScoringWeights) -> Index:
    """The index of `entries` (all of them: the caller leaves out disabled ones)."""
    map_large_buffers()
    vocabulary = Vocabulary()
    cap = w.postings_per_term
    # Each analysed text is a "group" (one phrasing, the keywords, the category or the answer of an entry).
    group_entry, group_field, group_slot = array("i"), array("b"), array("h")
    # Pass 1 in chunks of entries: Python segments and looks up words; numpy turns the CJK runs of the
    # whole chunk into n-gram keys at once and counts (group, term) rows.
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    word_groups, word_terms = array("i"), array("i")
    run_texts: list[str] = []
    run_groups, run_lengths = array("i"), array("i")
    phrasing_start = array("i", [0])
    texts, keywords, categories, entry_topics = _Strings(), _Strings(), _Strings(), _Strings()
    question_types = array("B")
    pieces: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    analyse = segmenter.words_and_runs
    word = vocabulary.words.__getitem__  # adds new words

    def add(number: int, field: int, slot: int, analysed: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        group = len(group_entry)
        group_entry.append(number)
        group_field.append(field)
        group_slot.append(slot)
        tokens, runs = analysed
        if not SYNONYM_WORDS.isdisjoint(tokens):
            tokens = with_synonyms(tokens)
        word_terms.extend(map(word, tokens))
        word_groups.extend(repeat(group, len(tokens)))
        if runs:
            # NUL ends every run: no bigram spans two runs or two texts.
            joined = "\0".join(runs) + "\0"
            run_texts.append(joined)
            run_groups.append(group)
            run_lengths.append(len(joined))

    chunk = [0]  # first group of the chunk being collected

    def flush() -> None:
        if _speedups is None:
            distinct, counts = _group_keys_numpy(run_texts, run_groups, run_lengths, word_groups, word_terms, chunk[0])
        else:
            found = _speedups.group_keys(
                run_texts, run_groups, word_groups, word_terms, chunk[0], len(group_entry) - chunk[0]
            )
            distinct, counts = (np.frombuffer(values, dtype=np.int64) for values in found)
        keys = distinct & ((1 << _GROUP_SHIFT) - 1)
        terms = keys - _WORD_KEY
        ngrams = keys < _WORD_KEY
        terms[ngrams] = vocabulary.add_ngrams(keys[ngrams])
        # Counts fit 16 bits: a term repeated 65,535 times in one text saturates BM25 long before.
        counts = np.minimum(counts, 0xFFFF).astype(np.uint16)
        group_ids = ((distinct >> _GROUP_SHIFT) + chunk[0]).astype(np.int32)
        rows.append((group_ids, terms.astype(np.int32), counts))
        chunk[0] = len(group_entry)
        for buffer in (word_groups, word_terms, run_groups, run_lengths):
            del buffer[:]
        run_texts.clear()

    # Categories repeat across entries: each is analysed and split into its compact parts once.
    category_seen: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], str]] = {}
    for number, entry in enumerate(entries):
        cleans = [normalise(text) for text in entry.phrasings]
        for slot, clean in enumerate(cleans, start=1):
            add(number, _PHRASINGS, slot, analyse(clean))
            texts.append(clean.replace(" ", ""))
        question_types.append(offered(cleans))
        entry_topics.append(topics(cleans))
        phrasing_start.append(len(texts))
        # Keywords and answers share clauses: segment each once.
        add(number, _KEYWORDS, -1, analyse(normalise(" ".join(entry.keywords)), pieces))
        seen = category_seen.get(entry.category)
        if seen is None:
            # Split at punctuation too: a customer writes "PLAY" of a part named "KOKO(PLAY/NBA)".
            parts = (piece for part in entry.category.split("|") for piece in normalise(part).split())
            seen = category_seen[entry.category] = (
                analyse(normalise(entry.category.replace("|", " ")), pieces),
                "\n".join(part for part in parts if part),
            )
        add(number, _CATEGORY, -1, seen[0])
        categories.append(seen[1])
        add(number, _ANSWER, 0, analyse(normalise(entry.answer), pieces))
        compact = (normalise(keyword).replace(" ", "") for keyword in entry.keywords)
        keywords.append("\n".join(keyword for keyword in compact if keyword))
        if len(group_entry) - chunk[0] >= _CHUNK:
            flush()
    flush()
    pieces.clear()
    category_seen.clear()
    count, term_count = len(entries), len(vocabulary)
    group_entry_np, group_field_np = _np(group_entry, np.int32), _np(group_field, np.int8)
    group_slot_np = _np(group_slot, np.int16)
    # Pass 2: field lengths and their averages, then per chunk BM25F pseudo-frequencies and document
    # frequencies.
    group_length = np.zeros(len(group_entry_np))
    for groups, _, counts in rows:
        group_length += np.bincount(groups, weights=counts, minlength=len(group_length))
    lengths = np.bincount(
        group_entry_np.astype(np.int64) * 4 + group_field_np, weights=group_length, minlength=4 * count
    ).reshape(count, 4)
    del group_length
    averages = lengths.mean(axis=0) if count else np.ones(4)
    averages[averages == 0.0] = 1.0
    norms = 1.0 - w.b + w.b * lengths / averages
    boosts = np.array((w.question_boost, w.keyword_boost, w.category_boost, w.answer_boost))
    document_frequency = np.zeros(term_count, dtype=np.int64)
    # Rows that may still be among their term's strongest, and the rest (which never will: a row outside the
    # strongest of its own chunk is outside them overall), kept apart and narrowed every few chunks so that
    # no sort is over all rows.
    # The rest keep float32 frequencies: they are most rows, and their impacts are stored as float32 anyway.
    kept, rest = _Rows(np.float64), _Rows(np.float32)
    entry_terms, entry_slots = [], []
    entry_counts = np.zeros(count, dtype=np.int64)
    while rows:
        groups, terms, counts = rows.pop(0)  # each chunk freed once used
        pair_entries, pair_terms, frequency = bm25f_frequencies(
            group_entry_np[groups], group_field_np[groups], terms, counts, boosts, norms, term_count
        )
        document_frequency += np.bincount(pair_terms, minlength=term_count)
        strong, weak = strongest_and_rest(pair_terms, frequency, cap)
        kept.add(pair_terms, pair_entries, frequency, strong)
        rest.add(pair_terms, pair_entries, frequency, weak)
        del strong, weak
        if rows and len(rows) % _SETTLE == 0:  # the last chunk is settled below
            kept.settle(cap, rest)
        features = group_slot_np[groups] >= 0
        entry_terms.append(terms[features])
        entry_slots.append(group_slot_np[groups[features]])
        entry_counts += np.bincount(group_entry_np[groups[features]], minlength=count)
    vocabulary.freeze(document_frequency, count)
    idf, kinds = vocabulary.idf, vocabulary.kinds
    kept.settle(cap, rest)
    weighted = idf * np.asarray(w.kind_boosts)[kinds]  # impacts carry their kind's retrieval weight
    postings = _postings(kept, weighted, w)
    tails = _postings(rest, weighted, w)
    entry_term_array = np.concatenate(entry_terms, dtype=np.int32)
    entry_terms.clear()
    entry_slot_array = np.concatenate(entry_slots, dtype=np.int16)
    entry_slots.clear()
    entry_offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(entry_counts, out=entry_offsets[1:])
    del entry_terms, entry_slots
    phrasing_starts = _np(phrasing_start, np.int32).astype(np.int64)
    # Per phrasing, its IDF mass per kind: the denominators of "how much of the phrasing the query covers".
    phrasings = len(texts)
    phrasing_mass = np.zeros(3 * phrasings)
    # In blocks of entries: whole-index temporaries would set the build's peak memory.
    for first in range(0, count, _CHUNK):
        last = min(first + _CHUNK, count)
        start, stop = entry_offsets[first], entry_offsets[last]
        slots = entry_slot_array[start:stop]
        owner = np.repeat(phrasing_starts[first:last] - 1, np.diff(entry_offsets[first : last + 1]))
        used = slots > 0
        terms = entry_term_array[start:stop][used]
        phrasing_mass += np.bincount(
            (owner[used] + slots[used]) * 3 + kinds[terms], weights=idf[terms], minlength=3 * phrasings
        )
    phrasing_mass = phrasing_mass.reshape(phrasings, 3)
    total = phrasing_mass[:, 0] + phrasing_mass[:, 1] + phrasing_mass[:, 2]
    phrasing_total = np.where(total == 0.0, 1.0, total)
    ngrams = phrasing_mass[:, 1:]
    phrasing_divisors = np.where(ngrams > 0.0, ngrams, np.inf)
    # Phrasing texts and keyword lists as one string each with offsets: no string object per phrasing.
    return Index(
        vocabulary=vocabulary,
        postings=postings,
        tails=tails,
        entry_terms=entry_term_array,
        entry_slots=entry_slot_array,
        term_offsets=array("q", entry_offsets.tobytes()),
        phrasing_starts=array("q", phrasing_starts.tobytes()),
        phrasing_total=phrasing_total,
        phrasing_divisors=phrasing_divisors,
        texts=texts.join(),
        text_offsets=texts.offsets,
        keywords=keywords.join(),
        keyword_offsets=keywords.offsets,
        categories=categories.join(),
        category_offsets=categories.offsets,
        topics=entry_topics.join(),
        topic_offsets=entry_topics.offsets,
        question_types=question_types,
        idf=array("d", idf.tobytes()),
        kinds=array("b", kinds.tobytes()),
    )


def _postings(rows: _Rows, idf: np.ndarray, w: ScoringWeights) -> Postings:
    """The (term, entry) rows with their pseudo-frequency as postings of BM25 impacts, computed in place over
    the frequencies, in their precision (float32 for the many rows of the tails: that is what every impact is
    stored in). In place, because the sort into postings that follows sets the build's peak memory."""
    terms, entries, impacts = rows.join()
    saturation = impacts + w.k1
    impacts *= idf.astype(impacts.dtype, copy=False)[terms]
    impacts *= w.k1 + 1.0
    impacts /= saturation
    del saturation
    return Postings(len(idf), terms, entries, impacts)


class _Rows:
    """(term, entry, pseudo-frequency) rows gathered chunk by chunk, joined once; chunks freed as they are."""

    def __init__(self, frequency_type: type) -> None:
        self._columns: tuple[list[np.ndarray], ...] = ([], [], [])
        self._frequency_type = frequency_type

    def add(self, terms: np.ndarray, entries: np.ndarray, frequency: np.ndarray, chosen: np.ndarray) -> None:
        self._columns[0].append(terms[chosen])
        self._columns[1].append(entries[chosen])
        self._columns[2].append(frequency[chosen].astype(self._frequency_type))

    def settle(self, cap: int, rest: _Rows) -> None:
        """Keeps each term's `cap` strongest rows and moves the others to `rest`: done every few chunks, so the
        rows kept never outgrow a few chunks' worth plus the strongest (the sort over them sets the peak)."""
        terms, entries, frequency = self.join()
        strong, weak = strongest_and_rest(terms, frequency, cap)
        rest.add(terms, entries, frequency, weak)
        self.add(terms, entries, frequency, strong)

    def join(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        joined = []
        for column in self._columns:
            joined.append(np.concatenate(column) if column else np.zeros(0))
            column.clear()
        return joined[0].astype(np.int32, copy=False), joined[1].astype(np.int32, copy=False), joined[2]


def _group_keys_numpy(
    run_texts: list[str], run_groups: array, run_lengths: array, word_groups: array, word_terms: array, first: int
) -> tuple[np.ndarray, np.ndarray]:
    """A chunk's distinct (group, key) rows and their counts: one int64 per row, the group in the chunk in the
    high bits, then a word id above every n-gram key, or a CJK unigram or bigram of the group's runs."""
    codes = np.frombuffer("".join(run_texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    owners = np.repeat(_np(run_groups, np.int32), _np(run_lengths, np.int32))
    used = codes != 0
    pairs = used[:-1] & used[1:]
    keys = np.concatenate(
        (
            _np(word_terms, np.int32).astype(np.int64) + _WORD_KEY,
            codes[used],
            (codes[:-1][pairs] << NGRAM_SHIFT) | codes[1:][pairs],
        )
    )
    groups = np.concatenate((_np(word_groups, np.int32), owners[used], owners[:-1][pairs])) - first
    return np.unique((groups.astype(np.int64) << _GROUP_SHIFT) | keys, return_counts=True)


def _np(values: array, dtype: type) -> np.ndarray:
    return np.frombuffer(values, dtype=dtype).copy() if len(values) else np.zeros(0, dtype=dtype)


class _Strings:
    """Many short strings kept as one: offsets in an array (read one at a time, where numpy scalars are slow),
    text joined in blocks as it arrives so a build never holds a string object per phrasing."""

    def __init__(self) -> None:
        self.offsets = array("q", [0])
        self._blocks: list[str] = []
        self._pending: list[str] = []

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def append(self, text: str) -> None:
        self._pending.append(text)
        self.offsets.append(self.offsets[-1] + len(text))
        if len(self._pending) >= 4096:
            self._blocks.append("".join(self._pending))
            self._pending.clear()

    def join(self) -> str:
        return "".join(self._blocks) + "".join(self._pending)
