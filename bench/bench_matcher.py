"""Matcher accuracy, speed and memory on synthetic knowledge bases of 1k, 10k and 100k entries.

Run: `.venv/bin/python bench/bench_matcher.py [SIZES...]`. Each size is written to a JSONL file, then
loaded as the product loads it (read, validate, index) in a fresh process, so peak memory (ru_maxrss)
belongs to that knowledge base alone. Latencies are timed over the same queries: as loaded, then
after `gc.freeze()` (what the desk does after loading), which shows what collector pauses cost, then as the
fastest of three runs of each query, which is the query's own cost without the machine's noise.
Text is random but shaped like real FAQ text: words of 2-4 characters drawn with a Zipf-like frequency
from a few thousand CJK characters, plus filler words. Each query paraphrases one known entry (see
`make_queries`; a filler each side), so accuracy is measured too: top1 and
top3, answered right and answered wrong, next to a plain inverted index (BM25 over each entry's whole text,
every posting kept) scored on the same queries in the same run, the yardstick retrieval must not fall below.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from knowledge import Entry, KnowledgeBase, Tier, warm_up
from knowledge.io_formats import write_jsonl
from knowledge.loader import load_entries
from knowledge.text import Segmenter, normalise

DEFAULT_SIZES = (1_000, 10_000, 100_000)
QUERIES = 5_000
WARM_UP = 500
FILLERS = ["请问", "我想", "怎么", "一下", "可以", "吗", "呢", "你好", "如何", "为什么"]


def make_vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    characters = [chr(code) for code in rng.sample(range(0x4E00, 0x9FA5), 3_500)]
    return ["".join(rng.choices(characters, k=rng.choice((2, 2, 3, 4)))) for _ in range(size)]


def zipf_words(rng: random.Random, vocabulary: list[str], count: int) -> list[str]:
    # Rank-frequency ~ 1/rank: a few words are everywhere, most are rare, as in real text.
    return [vocabulary[min(int(rng.paretovariate(1.0)) - 1, len(vocabulary) - 1)] for _ in range(count)]


def make_entries(rng: random.Random, vocabulary: list[str], count: int) -> list[Entry]:
    shuffled = vocabulary[:]
    rng.shuffle(shuffled)  # decorrelate Zipf rank from vocabulary order per field
    entries = []
    for number in range(count):
        topic = rng.sample(vocabulary, 3)  # each entry's own rarer words
        entries.append(
            Entry(
                id=f"e{number}",
                question="".join(topic[:2] + zipf_words(rng, shuffled, rng.randint(1, 3))),
                alternates=["".join(rng.sample(topic, 2) + zipf_words(rng, shuffled, 2)) for _ in range(2)],
                keywords=topic[:2],
                category=rng.choice(vocabulary[:50]),
                answer="，".join(zipf_words(rng, shuffled, rng.randint(15, 40)) + topic),
            )
        )
    return entries


def make_queries(rng: random.Random, entries: list[Entry], vocabulary: list[str]) -> list[tuple[str, str]]:
    """(query, id of the entry it paraphrases). Half name the entry's two keywords; half name one keyword and
    the entry's third topic word, which only its alternates and answer use (an answer's words are weak
    postings, the first a posting cap leaves out). Either way with up to two other words of `vocabulary`, which
    is the knowledge base's own (`random` seeds by absolute value): often another entry's keyword, so a query
    may name a second entry too."""
    queries = []
    for number in range(QUERIES):
        entry = rng.choice(entries)
        third = entry.answer.rsplit("，", 1)[-1]  # the answer ends with the entry's topic words
        named = [rng.choice(entry.keywords), third] if number % 2 else list(entry.keywords)
        words = [*named, *rng.sample(vocabulary, rng.randint(0, 2))]
        rng.shuffle(words)
        queries.append((rng.choice(FILLERS) + "".join(words) + rng.choice(FILLERS), entry.id))
    return queries


def write_knowledge_file(size: int, path: Path) -> None:
    """The synthetic knowledge base as a JSONL table, the format big knowledge bases are imported in."""
    rng = random.Random(size)
    write_jsonl(make_entries(rng, make_vocabulary(rng), size), path)


def run_one(size: int, path: Path) -> None:
    """Load the file as the product does (read, validate, index) in a process that holds nothing else."""
    warm_up()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    entries, sources = load_entries([path])
    read_seconds = time.perf_counter() - started
    kb = KnowledgeBase(entries, sources=sources)
    build_seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del entries
    rng = random.Random(-size)
    pairs = make_queries(rng, list(kb.entries), make_vocabulary(rng))
    queries = [query for query, _ in pairs]
    for query in queries[:WARM_UP]:
        kb.match(query)  # warm caches before timing
    accuracy, top1 = _accuracy(kb, pairs)
    loaded = _latencies(kb, queries)
    gc.freeze()
    frozen = _latencies(kb, queries, ordered=False)
    # On a shared machine a single pass also measures the neighbours: the fastest of three runs of each
    # query is what the query itself costs (the two lines above keep the pauses a customer may see).
    reruns = [_latencies(kb, queries, ordered=False) for _ in range(2)]
    best = sorted(min(times) for times in zip(frozen, *reruns, strict=True))
    frozen.sort()
    # Built last: its memory is not counted in the knowledge base's.
    plain = PlainIndex(kb.entries, kb.matcher.segmenter)
    plain_top1 = sum(plain.top(query) == expected for query, expected in pairs) / len(pairs)
    memory_mb = (rss_after - rss_before) / 1024
    print(
        f"{size:>7} entries  load {build_seconds:6.2f} s (reading the file {read_seconds:.2f} s)  "
        f"peak RSS {rss_after / 1024:.0f} MB (knowledge base ~{(rss_after - rss_before) / 1024:.0f} MB)\n"
        f"         accuracy    {accuracy}  plain index top1 {plain_top1:.3f}\n"
        f"         as loaded   {_summary(loaded)}\n"
        f"         gc.freeze() {_summary(frozen)}\n"
        f"         best of 3   {_summary(best)}",
        flush=True,
    )
    if size in TARGETS:
        print(f"         targets     {_targets(size, top1, plain_top1, loaded, build_seconds, memory_mb)}", flush=True)


# The performance issue's targets per size: top1 (and at least the plain index's), p99 ms, load s, memory MB.
TARGETS = {10_000: (None, 1.0, None, None), 100_000: (0.95, 2.0, 20.0, 400.0)}


def _targets(size: int, top1: float, plain: float, loaded: list[float], load: float, memory: float) -> str:
    least_top1, most_p99, most_load, most_memory = TARGETS[size]
    p99 = loaded[min(int(0.99 * len(loaded)), len(loaded) - 1)]
    checks = [(f"p99 {p99:.2f} <= {most_p99} ms", p99 <= most_p99)]
    if least_top1 is not None:
        checks.insert(0, (f"top1 {top1:.3f} >= {least_top1} and >= plain {plain:.3f}", top1 >= max(least_top1, plain)))
    if most_load is not None:
        checks.append((f"load {load:.1f} <= {most_load:.0f} s", load <= most_load))
    if most_memory is not None:
        checks.append((f"memory {memory:.0f} <= {most_memory:.0f} MB", memory <= most_memory))
    return "  ".join(f"{text} {'OK' if met else 'MISSED'}" for text, met in checks)


def _accuracy(kb: KnowledgeBase, pairs: list[tuple[str, str]]) -> tuple[str, float]:
    """top1, top3, and how often the matcher answers (tier ANSWER) with the right and with a wrong entry; top1."""
    top1 = top3 = right = wrong = 0
    for query, expected in pairs:
        match = kb.match(query, limit=3)
        ids = [candidate.entry.id for candidate in match.candidates]
        top1 += ids[:1] == [expected]
        top3 += expected in ids
        if match.tier is Tier.ANSWER:
            right += ids[0] == expected
            wrong += ids[0] != expected
    count = len(pairs)
    text = (
        f"top1 {top1 / count:.3f}  top3 {top3 / count:.3f}  "
        f"answered right {right / count:.3f}  answered wrong {wrong / count:.3f}"
    )
    return text, top1 / count


class PlainIndex:
    """The yardstick: BM25 over each entry's text (every field as one document) on the segmenter's words and
    CJK character bigrams, every posting kept, scores summed per entry; no fields, caps or re-ranking."""

    K1, B = 1.2, 0.75

    def __init__(self, entries: tuple[Entry, ...], segmenter: Segmenter) -> None:
        self._segmenter = segmenter
        self._ids = [entry.id for entry in entries]
        self._terms: dict[str, int] = {}
        owners, found = [], []
        for number, entry in enumerate(entries):
            text = " ".join([*entry.phrasings, *entry.keywords, entry.category, entry.answer])
            found.extend(self._term_ids(text, add=True))
            owners.extend([number] * (len(found) - len(owners)))
        # (entry, term) pairs with their counts, then BM25 impacts grouped by term.
        keys = np.array(owners, dtype=np.int64) * len(self._terms) + np.array(found, dtype=np.int64)
        pairs, counts = np.unique(keys, return_counts=True)
        entry_of, term_of = pairs // len(self._terms), pairs % len(self._terms)
        length = np.bincount(entry_of, weights=counts, minlength=len(entries))
        norm = 1.0 - self.B + self.B * length / max(length.mean(), 1.0)
        df = np.bincount(term_of, minlength=len(self._terms))
        idf = np.log(1.0 + (len(entries) - df + 0.5) / (df + 0.5))
        impact = idf[term_of] * counts * (self.K1 + 1.0) / (counts + self.K1 * norm[entry_of])
        order = np.argsort(term_of, kind="stable")
        self._entries, self._impacts = entry_of[order], impact[order]
        self._offsets = np.concatenate(((0,), np.cumsum(df)))

    def _term_ids(self, text: str, add: bool = False) -> list[int]:
        words, runs = self._segmenter.words_and_runs(normalise(text))
        terms = [*words, *(run[i : i + 2] for run in runs for i in range(len(run) - 1))]
        if add:
            return [self._terms.setdefault(term, len(self._terms)) for term in terms]
        return [number for number in dict.fromkeys(self._terms.get(term, -1) for term in terms) if number >= 0]

    def top(self, query: str) -> str | None:
        """The id of the best-scoring entry, ties to the first."""
        scores = np.zeros(len(self._ids))
        for term in self._term_ids(query):
            start, stop = self._offsets[term], self._offsets[term + 1]
            scores[self._entries[start:stop]] += self._impacts[start:stop]
        best = int(np.argmax(scores))
        return self._ids[best] if scores[best] > 0.0 else None


def _latencies(kb: KnowledgeBase, queries: list[str], ordered: bool = True) -> list[float]:
    """Milliseconds per `match`, sorted unless `ordered` is False (then in query order)."""
    latencies = []
    clock = time.perf_counter_ns
    for query in queries:
        begun = clock()
        kb.match(query)
        latencies.append((clock() - begun) / 1e6)
    if ordered:
        latencies.sort()
    return latencies


def _summary(latencies: list[float]) -> str:
    def at(share: float) -> float:
        return latencies[min(int(share * len(latencies)), len(latencies) - 1)]

    return (
        f"p50 {statistics.median(latencies):.3f} ms  p99 {at(0.99):.3f} ms  "
        f"p99.9 {at(0.999):.3f} ms  max {latencies[-1]:.3f} ms"
    )


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        run_one(int(argv[1]), Path(argv[2]))
        return
    if any(not arg.isdigit() for arg in argv):
        print(f"usage: {Path(__file__).name} [SIZE ...]   (entries per knowledge base; default 1000 10000 100000)")
        sys.exit(0 if argv[:1] in (["-h"], ["--help"]) else 2)
    for size in [int(arg) for arg in argv] or DEFAULT_SIZES:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "kb.jsonl"
            write_knowledge_file(size, path)
            subprocess.run([sys.executable, "-W", "ignore", __file__, "--one", str(size), str(path)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
