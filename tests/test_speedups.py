"""The compiled loops (knowledge/_speedups.c) give exactly what their Python and numpy versions give.

Without a C compiler the package installs without them and these tests skip, unless DESK_REQUIRE_SPEEDUPS=1
(CI sets it): there, a missing extension is a failure, not a silent fall-back.
"""

from __future__ import annotations

import os
import random
from array import array

import jieba
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from knowledge import Entry, KnowledgeBase
from knowledge.build import _group_keys_numpy
from knowledge.compiled import speedups
from knowledge.lexicon import STOP_WORDS
from knowledge.matcher import _add_tails_numpy, character_shares_python
from knowledge.text import Segmenter, fold_python, normalise, separate_python

if speedups is None:
    if os.environ.get("DESK_REQUIRE_SPEEDUPS") == "1":
        pytest.fail("DESK_REQUIRE_SPEEDUPS=1 but knowledge._speedups was not compiled", pytrace=False)
    pytest.skip("knowledge._speedups was not compiled (no C compiler at install)", allow_module_level=True)

WORDS = ["乐分期宝", "abc客服", "退款䶵", "㐀㐁", "a股", "t恤", "iphone15"]

# Characters that exercise every branch: common and traditional ideographs, rare ones jieba does not cut
# as Chinese, full-width forms, Latin letters and digits, stop words, punctuation, spaces and emoji.
ALPHABET = (
    "退款订单发货信用卡分期的了吗请问我你好想要怎么办乐宝客服股恤"
    "個們於麼臺灣螢幕兌換覆著"
    "㐀㐁㐂䶵鿖鿗"
    "ＡＢＣａｂｃ１２３，。！？（）　"
    "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789"
    ",.!?;:'\"()-_/ \t\n"
    "😀🎉𠀀"
)
texts = st.text(alphabet=ALPHABET, max_size=80)


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter(jieba.Tokenizer()).with_words(WORDS)


@settings(max_examples=400, deadline=None)
@given(texts)
@example("a,b")
@example("  ")
@example("")
def test_fold_and_separate_match_python(raw: str) -> None:
    assert speedups.fold(raw) == fold_python(raw)
    lowered = raw.casefold()
    assert speedups.separate(lowered) == separate_python(lowered)


@settings(max_examples=400, deadline=None)
@given(texts)
@example("买t恤和衣服")
@example("refunds shipping iphone15 abc123")
@example("乐分期宝乐分期 a1b2c3 㐀㐁退货")
def test_analyse_matches_python(segmenter: Segmenter, raw: str) -> None:
    clean = normalise(raw)
    compiled_cache: dict = {}
    python_cache: dict = {}
    assert segmenter.words_and_runs(clean) == segmenter._analyse_python(clean)
    assert segmenter.words_and_runs(clean, compiled_cache) == segmenter._analyse_python(clean, python_cache)
    assert compiled_cache == python_cache
    # A second pass reads the cache and must still agree.
    assert segmenter.words_and_runs(clean, compiled_cache) == segmenter._analyse_python(clean, python_cache)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="acdeghinsuxyz", min_size=0, max_size=7),
    st.sampled_from(["", "s", "e", "es", "ies", "ied", "ing", "ed", "ches", "shes", "sses", "xes", "zzes", "us", "is"]),
)
@example("polic", "ies")
@example("branch", "es")
def test_english_stems_match_python(segmenter: Segmenter, stem: str, ending: str) -> None:
    """Every branch of the stemmer, which random text almost never reaches."""
    word = stem + ending
    assert segmenter.words_and_runs(word) == segmenter._analyse_python(word)


def test_knowledge_base_words_stay_whole(segmenter: Segmenter) -> None:
    """The overlay's words reach the compiled dynamic programme too."""
    assert segmenter.analyse_normalised("乐分期宝怎么办").words == ("乐分期宝",)
    assert "t恤" in segmenter.analyse_normalised("买t恤").words


def test_wrong_arguments_raise_instead_of_crashing(segmenter: Segmenter) -> None:
    with pytest.raises(TypeError):
        speedups.fold(b"bytes")
    with pytest.raises(TypeError):
        speedups.separate(None)
    with pytest.raises(TypeError):
        speedups.analyse("文本", None, {}, {}, {}, 1.0)  # a missing argument
    with pytest.raises(TypeError):
        speedups.analyse("文本", [], {}, {}, {}, 1.0, STOP_WORDS)  # the cache must be a dict or None
    with pytest.raises(KeyError):
        # A count the logarithm table lacks is reported, not read as garbage.
        speedups.analyse("退款", None, {"退": 5, "退款": 7}, {}, {}, 1.0, STOP_WORDS)


QUERY_WORDS = ["退款", "订单", "发货", "快递", "发票", "会员", "积分", "地址", "价", "没有的词", "refund", "的"]


@pytest.fixture(scope="module")
def crowded() -> KnowledgeBase:
    """Many entries sharing few words: long posting lists, and many equal retrieval scores to break."""
    rng = random.Random(5)
    words = ["退款", "订单", "发货", "快递", "发票", "会员", "积分", "优惠券", "地址", "退货", "换货", "价格"]
    entries = []
    for number in range(600):
        picked = rng.sample(words, 3)
        entries.append(
            Entry(
                id=f"e{number}",
                question="".join(picked[:2]),
                alternates=["".join(rng.sample(words, 2))],
                keywords=[picked[2]] if number % 3 else [],
                answer="，".join(rng.sample(words, 4)),
            )
        )
    return KnowledgeBase.from_entries(entries)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["退款", "订单", "发货", "快递", "发票", "会员", "积分", "地址", "价", "没有的词"]), max_size=8
    )
)
def test_retrieval_matches_numpy(crowded: KnowledgeBase, words: list[str]) -> None:
    """Same entries, same order and the same scores to the last bit, ties included."""
    matcher = crowded.matcher
    query = matcher._query("".join(words))
    if query is None:
        return
    assert matcher._retrieve(query.terms) == matcher._retrieve_numpy(query.terms)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=8))
def test_candidate_features_match_numpy(crowded: KnowledgeBase, words: list[str]) -> None:
    """Every feature of every candidate identical to the last bit, the chosen phrasing's included."""
    matcher = crowded.matcher
    query = matcher._query("".join(words))
    if query is None:
        return
    ranked = matcher._retrieve(query.terms)
    numbers, scores = [number for number, _ in ranked], [score for _, score in ranked]
    compiled = matcher._candidate_features(query, numbers, scores, scores[0])
    reference = matcher._candidate_features_numpy(query, numbers, scores, scores[0])
    assert compiled.shape == reference.shape
    assert np.array_equal(compiled, reference)


@settings(max_examples=300, deadline=None)
@given(texts, st.lists(st.lists(texts, max_size=4), min_size=1, max_size=6))
@example("退款订单", [["退款", "订单号", "x"], [], ["退"]])
def test_character_shares_match_python(compact: str, listed: list[list[str]]) -> None:
    joined = "".join(text for texts_of_entry in listed for text in ["\n".join(texts_of_entry)])
    offsets = array("q", [0])
    for texts_of_entry in listed:
        offsets.append(offsets[-1] + len("\n".join(texts_of_entry)))
    numbers = list(range(len(listed)))[::-1]
    assert speedups.character_shares(compact, joined, offsets, numbers) == character_shares_python(
        compact, joined, offsets, numbers
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.text(alphabet="退款订单发货㐀䶵\U00020000", min_size=1, max_size=6), max_size=4),
            st.lists(st.integers(0, 50), max_size=6),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 1000),
)
def test_chunk_rows_match_numpy(groups: list[tuple[list[str], list[int]]], first: int) -> None:
    """A build chunk's distinct (group, key) rows and counts, as np.unique gives them."""
    run_texts, run_groups, run_lengths = [], array("i"), array("i")
    word_groups, word_terms = array("i"), array("i")
    for number, (runs, words) in enumerate(groups, start=first):
        word_terms.extend(words)
        word_groups.extend([number] * len(words))
        if runs:
            joined = "\0".join(runs) + "\0"
            run_texts.append(joined)
            run_groups.append(number)
            run_lengths.append(len(joined))
    distinct, counts = (
        np.frombuffer(values, dtype=np.int64)
        for values in speedups.group_keys(run_texts, run_groups, word_groups, word_terms, first, len(groups))
    )
    expected_distinct, expected_counts = _group_keys_numpy(
        run_texts, run_groups, run_lengths, word_groups, word_terms, first
    )
    assert np.array_equal(distinct, expected_distinct) and np.array_equal(counts, expected_counts)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=8),
    st.lists(st.integers(0, 599), max_size=60, unique=True),
)
def test_completion_matches_numpy(crowded: KnowledgeBase, words: list[str], numbers: list[int]) -> None:
    """The tails' impacts added to any candidates' scores, to the last bit, entries without a posting included."""
    matcher = crowded.matcher
    query = matcher._query("".join(words))
    if query is None:
        return
    tails = matcher._index.tails
    assert len(tails.entries)  # 600 entries over a dozen words: every word has a tail
    found = np.array(numbers, dtype=np.int32)
    start = np.linspace(1.0, 2.0, len(numbers))
    compiled, reference = start.copy(), start.copy()
    speedups.complete(tails.offsets, tails.entries, tails.impacts, query.terms, found, compiled)
    _add_tails_numpy(tails, query.terms, found, reference)
    assert np.array_equal(compiled, reference)


def test_completion_rejects_bad_arrays(crowded: KnowledgeBase) -> None:
    tails = crowded.matcher._index.tails
    terms, found, totals = np.array([0], dtype=np.int64), np.array([1, 2], dtype=np.int32), np.zeros(2)
    with pytest.raises(IndexError):
        speedups.complete(tails.offsets, tails.entries, tails.impacts, np.array([10**9]), found, totals)
    with pytest.raises(TypeError):
        speedups.complete(tails.offsets, tails.entries, tails.impacts, terms, found, np.zeros(3))  # one per entry
    with pytest.raises(TypeError):
        speedups.complete(tails.offsets, tails.entries, tails.impacts, terms, found.astype(np.int64), totals)
    read_only = np.zeros(2)
    read_only.flags.writeable = False
    with pytest.raises((TypeError, BufferError, ValueError)):
        speedups.complete(tails.offsets, tails.entries, tails.impacts, terms, found, read_only)


def test_retrieval_breaks_ties_by_entry_number(crowded: KnowledgeBase) -> None:
    matcher = crowded.matcher
    ranked = matcher._retrieve(matcher._query("退款").terms)
    assert len(ranked) == matcher.weights.rerank_depth
    assert ranked == sorted(ranked, key=lambda pair: (-pair[1], pair[0]))


def test_retrieval_rejects_bad_arrays(crowded: KnowledgeBase) -> None:
    postings = crowded.matcher._index.postings
    terms = np.array([0], dtype=np.int64)
    with pytest.raises(IndexError):
        speedups.retrieve(postings.offsets, postings.entries, postings.impacts, np.array([10**9]), 12)
    with pytest.raises(TypeError):
        speedups.retrieve(postings.offsets, postings.entries.astype(np.int64), postings.impacts, terms, 12)
    with pytest.raises(ValueError):
        speedups.retrieve(postings.offsets, postings.entries, postings.impacts, terms, 0)


def test_cover_rejects_bad_arguments(crowded: KnowledgeBase) -> None:
    matcher = crowded.matcher
    query = matcher._query("退款订单")
    arrays = matcher._cover_arrays(query)
    with pytest.raises(TypeError):
        speedups.cover([0, 1], [1.0], 1.0, 1.0, 1.0, 12, *arrays)  # numbers and scores differ in length
    with pytest.raises(IndexError):
        speedups.cover([10**6], [1.0], 1.0, 1.0, 1.0, 12, *arrays)
    with pytest.raises(ValueError):
        speedups.cover([0], [1.0], 1.0, 1.0, 1.0, 12, *arrays[:-1], np.zeros(2))  # three kinds, three divisors
    with pytest.raises(TypeError):
        speedups.cover([0], [1.0], 1.0, 1.0, 1.0, 12, query.sorted_terms.astype(np.int64), *arrays[1:])
