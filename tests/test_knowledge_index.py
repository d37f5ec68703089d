"""The index's building blocks: capped postings keep each term's strongest entries, word ids, shared entry data."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge import Entry
from knowledge.build import build_index
from knowledge.index import Postings, Vocabulary, strongest_and_rest
from knowledge.matcher import ScoringWeights
from knowledge.text import base_segmenter


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 6), st.floats(0.0, 10.0, allow_nan=False)), max_size=60),
    cap=st.integers(1, 5),
)
def test_strongest_keeps_at_most_cap_rows_per_term_and_never_drops_a_stronger_one(rows, cap) -> None:
    terms = np.array([term for term, _ in rows], dtype=np.int32)
    frequency = np.array([value for _, value in rows], dtype=np.float64)
    kept, others = strongest_and_rest(terms, frequency, cap)
    assert len(set(kept.tolist())) == len(kept)
    assert sorted(kept.tolist() + others.tolist()) == list(range(len(rows)))
    for term in set(terms.tolist()):
        mine = np.flatnonzero(terms == term)
        chosen = [row for row in kept.tolist() if terms[row] == term]
        assert len(chosen) == min(cap, len(mine))
        dropped = sorted(set(mine.tolist()) - set(chosen))
        # Compared as stored (float32): nothing left out is stronger than something kept.
        weakest_kept = min(np.float32(frequency[row]) for row in chosen)
        assert all(np.float32(frequency[row]) <= weakest_kept for row in dropped)


def test_postings_hold_each_terms_entries_in_entry_order() -> None:
    terms = np.array([0, 0, 0, 2, 2], dtype=np.int32)
    entries = np.array([9, 3, 5, 7, 1], dtype=np.int32)
    impacts = np.array([0.9, 0.3, 0.5, 0.7, 0.1])
    postings = Postings(3, terms, entries, impacts)
    assert postings.offsets.tolist() == [0, 3, 3, 5]
    assert postings.entries.tolist() == [3, 5, 9, 1, 7]
    assert postings.impacts.tolist() == np.array([0.3, 0.5, 0.9, 0.1, 0.7], dtype=np.float32).tolist()


def test_building_adds_words_and_looking_up_never_does() -> None:
    vocabulary = Vocabulary()
    assert vocabulary.words["退货"] == 0
    assert vocabulary.words["退款"] == 1
    assert vocabulary.words["退货"] == 0
    assert vocabulary.words.get("发票", -1) == -1
    assert len(vocabulary) == 2 and "发票" not in vocabulary.words


def test_entries_share_their_field_names_yet_a_copy_keeps_its_own() -> None:
    first = Entry(id="a", question="怎么退货", answer="寄回即可")
    second = Entry(id="b", question="怎么退款", answer="原路返回")
    assert first.model_fields_set == {"id", "question", "answer"}
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    changed = first.model_copy(update={"alternates": ["我想退货"]})
    assert changed.model_fields_set == {"id", "question", "answer", "alternates"}
    assert first.model_fields_set == second.model_fields_set == {"id", "question", "answer"}
    assert Entry(id="c", question="q", answer="a", keywords=["k"]).model_fields_set == {
        "id",
        "question",
        "answer",
        "keywords",
    }


def test_category_parts_split_at_punctuation_as_well_as_at_bars() -> None:
    """A customer names one card of "KOKO(PLAY/NBA)"; the part written in full must be one of the parts."""
    entries = [
        Entry(id="play", question="联名卡优惠", answer="见官网", category="信用卡|卡片|KOKO(PLAY/NBA)"),
        Entry(id="plain", question="开卡", answer="拨打客服", category="信用卡"),
    ]
    index = build_index(entries, base_segmenter(), ScoringWeights())
    parts = [
        index.categories[index.category_offsets[number] : index.category_offsets[number + 1]].split("\n")
        for number in range(len(entries))
    ]
    assert [part for part in parts[0] if part] == ["信用卡", "卡片", "koko", "play", "nba"]
    assert [part for part in parts[1] if part] == ["信用卡"]


def test_every_posting_is_kept_once_the_strongest_where_candidates_are_found() -> None:
    """Each (term, entry) pair is in the strongest `postings_per_term` of its term or in its tail, never both,
    and nothing in a tail is stronger than what its term keeps among the strongest; across build chunks too."""
    words = ["退款", "订单", "发货", "快递", "发票", "会员"]
    entries = [
        Entry(
            id=f"e{number}", question=words[number % 6] + words[number % 5], answer="，".join(words[: number % 6 + 1])
        )
        for number in range(5_000)  # more than one build chunk
    ]
    cap = 40
    index = build_index(entries, base_segmenter(), ScoringWeights(postings_per_term=cap))
    heads, tails = index.postings, index.tails
    assert len(tails.entries) > 0
    for term in range(len(heads.offsets) - 1):
        strong = heads.entries[heads.offsets[term] : heads.offsets[term + 1]]
        rest = tails.entries[tails.offsets[term] : tails.offsets[term + 1]]
        assert len(strong) <= cap and (len(rest) == 0 or len(strong) == cap)
        assert np.all(np.diff(strong) > 0) and np.all(np.diff(rest) > 0)  # entry order, no repeats
        assert not set(strong.tolist()) & set(rest.tolist())
        if len(rest):
            weakest = heads.impacts[heads.offsets[term] : heads.offsets[term + 1]].min()
            assert tails.impacts[tails.offsets[term] : tails.offsets[term + 1]].max() <= weakest * (1 + 1e-6)
    assert index.vocabulary.words["退款"] >= 0
    used = index.vocabulary.words["退款"]
    df = sum(1 for entry in entries if "退款" in entry.question + entry.answer)
    stored = np.diff(heads.offsets)[used] + np.diff(tails.offsets)[used]
    assert df > cap and stored == df
