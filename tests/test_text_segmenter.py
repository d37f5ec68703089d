"""The segmenter's private words: an overlay on jieba's shared dictionary that cuts exactly as a jieba copy would."""

from __future__ import annotations

import jieba
import pytest

from knowledge.text import Segmenter, stem_english

# Knowledge-base words: new ones, one jieba holds only as a prefix, and rare ideographs jieba does not treat as
# Chinese (U+3400-U+4DBF, U+9FD6-U+9FFF), which reach its cut outside the dynamic programme.
WORDS = ["乐分期宝", "abc客服", "退款䶵", "㐀㐁", "鿖鿗测试", "a股", "分期乐", "客服"]
PIECES = [
    "乐分期宝乐分期",
    "我想退款䶵钱",
    "㐀㐁退货",
    "iphone15怎么退㐂",
    "abc客服123def",
    "鿖鿗测试鿕",
    "㐄",
    "a1b2c3",
]


@pytest.fixture(scope="module")
def base() -> Segmenter:
    return Segmenter(jieba.Tokenizer())


@pytest.fixture(scope="module")
def segmenter(base: Segmenter) -> Segmenter:
    return base.with_words(WORDS)


@pytest.fixture(scope="module")
def reference(base: Segmenter) -> jieba.Tokenizer:
    """What segmenters used to do: copy jieba's whole dictionary, then add each word as jieba does."""
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(base._base)
    tokenizer.total = base._total
    tokenizer.initialized = True
    for word in sorted({word for word in WORDS if not tokenizer.FREQ.get(word)}):
        tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word), 1000))
    return tokenizer


def test_overlay_leaves_the_shared_dictionary_alone(base: Segmenter, segmenter: Segmenter) -> None:
    """Adding words never writes to the dictionary every segmenter shares."""
    size, total = len(base._base), base._total
    derived = base.with_words([*WORDS, "再加一个词"])
    assert derived._base is base._base
    assert len(base._base) == size and base._total == total and not base._words
    assert "乐分期宝" not in base._base and derived._count("乐分期宝") >= 1000
    assert segmenter.with_words(["客服"]) is segmenter  # nothing new: the same segmenter


@pytest.mark.parametrize("piece", PIECES)
def test_overlay_cuts_like_a_jieba_copy_with_the_words_added(
    segmenter: Segmenter, reference: jieba.Tokenizer, piece: str
) -> None:
    """Same frequencies, same total, same tokens as jieba over a copied dictionary, in and outside its blocks."""
    assert segmenter._total == reference.total
    assert all(segmenter._count(word) == reference.FREQ.get(word) for word in WORDS)
    assert segmenter._tokens(piece) == list(reference.cut(piece, HMM=False))
    assert segmenter._tokens(piece) == list(segmenter._tokenizer.cut(piece, HMM=False))


def test_english_forms_of_one_word_share_a_stem() -> None:
    groups = [
        ["refund", "refunds", "refunded", "refunding"],
        ["branch", "branches"],
        ["policy", "policies"],
        ["apply", "applies", "applied"],
        ["close", "closes", "closed", "closing"],
        ["charge", "charges", "charged"],
        ["address", "addresses"],
        ["box", "boxes"],
        ["status"],
    ]
    for forms in groups:
        assert len({stem_english(form) for form in forms}) == 1, forms
    assert stem_english("status") == "status" and stem_english("bonus") == "bonus"
