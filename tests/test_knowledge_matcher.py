"""Matching customer messages to entries: the right entry, the right tier, and silence for chit-chat."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jieba
import numpy as np
import pytest

from desk.service import _load_knowledge as load_for_reload
from knowledge import Entry, KnowledgeBase, Match, Thresholds, Tier, warm_up
from knowledge.matcher import FEATURES
from knowledge.model import Candidate
from knowledge.text import normalise


def entry(entry_id: str, question: str, alternates=(), keywords=(), category="", answer="", enabled=True) -> Entry:
    return Entry(
        id=entry_id,
        question=question,
        alternates=list(alternates),
        keywords=list(keywords),
        category=category,
        answer=answer or f"{question}的答案。",
        enabled=enabled,
    )


SHOP = [
    entry(
        "return-how",
        "怎么退货？",
        ["我想退货", "退货流程是什么"],
        ["退货", "退回"],
        "退换货",
        "在订单页申请退货，寄回商品。",
    ),
    entry(
        "refund-when",
        "退款多久到账？",
        ["钱什么时候退回来", "退款要几天"],
        ["退款", "到账"],
        "退换货",
        "退款3-5个工作日原路返回。",
    ),
    entry("ship-when", "下单后多久发货？", ["什么时候发货", "几天能发货"], ["发货"], "物流", "付款后48小时内发货。"),
    entry(
        "track",
        "怎么查物流？",
        ["我的快递到哪了", "查询快递单号"],
        ["物流", "快递", "单号"],
        "物流",
        "在订单详情查看物流。",
    ),
    entry(
        "invoice",
        "怎么开发票？",
        ["可以开发票吗", "我要增值税发票"],
        ["发票", "开票"],
        "发票",
        "在订单页申请电子发票。",
    ),
    entry(
        "password", "忘记密码怎么办？", ["密码找回", "登录不了"], ["密码", "登录"], "账户", "点击登录页的“忘记密码”。"
    ),
    entry(
        "refund-en",
        "How do I get a refund?",
        ["refund request", "money back"],
        ["refund"],
        "Refunds",
        "Open the order and tap Refund.",
    ),
    entry(
        "exchange-size",
        "尺码不合适可以换吗？",
        ["换尺码", "换货"],
        ["换货", "尺码"],
        "退换货",
        "7天内可免费换一次尺码。",
    ),
    entry("coupon", "优惠券怎么用？", ["优惠券用不了", "怎么领优惠券"], ["优惠券"], "优惠", "结算页选择优惠券。"),
    entry("old-promo", "双十一活动规则", ["双十一"], ["双十一"], "优惠", "活动已结束。", enabled=False),
]


@pytest.fixture(scope="module")
def shop() -> KnowledgeBase:
    return KnowledgeBase.from_entries(SHOP)


CLEAR_QUESTIONS = [
    ("怎么退货", "return-how"),
    ("我想退货，怎么操作？", "return-how"),
    ("退款几天能到账", "refund-when"),
    ("我的快递到哪里了", "track"),
    ("发票怎么开", "invoice"),
    ("忘了密码，登录不了", "password"),
    ("How can I get a REFUND?", "refund-en"),
]


@pytest.mark.parametrize(("message", "expected"), CLEAR_QUESTIONS)
def test_clear_questions_are_answered(shop: KnowledgeBase, message: str, expected: str) -> None:
    """A message close to one phrasing is answered outright with that entry."""
    match = shop.match(message)
    assert match.tier is Tier.ANSWER, match
    assert match.best is not None and match.best.entry.id == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [("怎么退货", "return-how"), ("发票怎么开", "invoice"), ("退款几天能到账", "refund-when"), ("refund", "refund-en")],
)
def test_keyword_evidence_counts_relative_to_the_other_candidates(
    shop: KnowledgeBase, message: str, expected: str
) -> None:
    """The features that exist only where entries list keywords or a category sum to zero over the candidates:
    they move candidates against each other, not against "none of them". As raw values they raised every
    candidate, so where no entry lists keywords "none of them" won far more often."""
    numbers, rows, _ = shop.matcher.features(message)
    columns = [FEATURES.index(name) for name in KEYWORD_FEATURES]
    sums = np.asarray(rows)[:, columns].sum(axis=0)
    assert np.allclose(sums, 0.0, atol=1e-12), dict(zip(KEYWORD_FEATURES, sums, strict=True))
    # And they still single out the entry whose keyword the message writes.
    best = int(np.argmax(np.asarray(rows)[:, FEATURES.index("keyword_characters_best")]))
    assert shop.matcher.entries[numbers[best]].id == expected


KEYWORD_FEATURES = ("keywords_written", "keyword_characters_best", "keyword_characters", "category_characters_best")


@pytest.mark.parametrize("message", ["怎麼退貨？", "ＷＯ想退货！！！😀", "  怎么   退货  "])
def test_width_traditional_emoji_and_spacing_do_not_matter(shop: KnowledgeBase, message: str) -> None:
    """Normalisation folds full-width, traditional characters, punctuation and emoji away."""
    assert shop.match(message).best.entry.id == "return-how"


@pytest.mark.parametrize("message", ["你好", "哈哈", "今天天气怎么样", "你是机器人吗", "谢谢", "？？？", "", "🙂"])
def test_chit_chat_is_not_answered(shop: KnowledgeBase, message: str) -> None:
    """Greetings and small talk never trigger a knowledge-base answer."""
    assert shop.match(message).tier is Tier.NONE


def test_vague_message_offers_suggestions(shop: KnowledgeBase) -> None:
    """Returns and refunds both fit: offer both rather than guess."""
    match = shop.match("退货还是退款")
    assert match.tier is Tier.SUGGEST
    assert {"return-how", "refund-when"} <= {candidate.entry.id for candidate in match.candidates}


def test_short_vague_message_suggests_the_likely_entry(shop: KnowledgeBase) -> None:
    """'退钱' (money back) is too short to answer from, but the refund entry is offered first."""
    match = shop.match("退钱")
    assert match.tier is Tier.SUGGEST and match.best.entry.id == "refund-when"


def test_candidates_are_sorted_bounded_and_normalised(shop: KnowledgeBase) -> None:
    """At most `limit` candidates, best first, scores within 0..1."""
    for limit in (1, 3, 5):
        match = shop.match("退货退款发货", limit=limit)
        scores = [candidate.score for candidate in match.candidates]
        assert 0 < len(scores) <= limit and scores == sorted(scores, reverse=True)
        assert all(0.0 <= score <= 1.0 for score in scores)


def test_disabled_entries_are_kept_but_never_matched(shop: KnowledgeBase) -> None:
    """Disabling an entry hides it from customers without deleting it."""
    assert shop.get("old-promo") is not None
    assert all(c.entry.id != "old-promo" for c in shop.match("双十一活动规则").candidates)


def test_thresholds_decide_the_tier() -> None:
    """Raising the answer threshold above any score turns answers into suggestions."""
    strict = KnowledgeBase.from_entries(SHOP, Thresholds(answer=1.0, suggest=0.2, margin=0.0))
    assert strict.match("怎么退货").tier is Tier.SUGGEST
    assert KnowledgeBase.from_entries(SHOP).thresholds == Thresholds()


def test_match_is_thread_safe(shop: KnowledgeBase) -> None:
    """Several workers may share one knowledge base and get the same answers as one thread."""
    messages = ["怎么退货", "发票怎么开", "快递到哪了", "你好", "退款多久"] * 40
    expected = [shop.match(message) for message in messages]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(shop.match, messages)) == expected


def test_knowledge_base_keywords_stay_out_of_global_jieba() -> None:
    """The product's dictionary is private: other jieba users are not affected by our keywords."""
    KnowledgeBase.from_entries([entry("odd", "奇怪词汇", keywords=["乐分期宝"])])
    assert "乐分期宝" not in jieba.dt.FREQ


def test_loading_another_knowledge_base_never_changes_how_this_one_matches(tmp_path: Path) -> None:
    """A reload must match exactly as a restart would: one knowledge base's keywords (分期怎 would cut
    信用卡分期怎么办理 differently) stay out of every other one, and warming up adds no words."""
    plans = [entry("plan", "信用卡分期怎么办理"), entry("fee", "信用卡年费多少钱")]
    before = KnowledgeBase.from_entries(plans).matcher.features("信用卡分期怎么办理啊")
    other = tmp_path / "other.jsonl"
    record = {"id": "odd", "question": "分期怎么算", "answer": "按月计算。", "keywords": ["分期怎"]}
    other.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    load_for_reload([other], Thresholds())  # what a manager's /reload does
    warm_up()
    assert KnowledgeBase.from_entries(plans).matcher.features("信用卡分期怎么办理啊") == before


def test_match_result_shape() -> None:
    """`best` is None when nothing matched at all."""
    assert Match(tier=Tier.NONE, candidates=()).best is None


def test_scores_are_probabilities_with_room_for_none_of_them(shop: KnowledgeBase) -> None:
    """Confidence is shared among candidates and a 'none of them' option, so scores never add up past 1."""
    for message in ("退货还是退款", "怎么退货", "退钱", "优惠券"):
        match = shop.match(message, limit=10)
        assert 0.0 < sum(candidate.score for candidate in match.candidates) <= 1.0001


@pytest.mark.parametrize(
    "block",
    ["怎么退货", "我想退货退款多久到账", "abc客服123def", "iphone15怎么退", "a1b2c3", "乐分期宝乐分期", "退", "12345"],
)
def test_fast_cut_gives_jiebas_tokens(block: str) -> None:
    """Segmentation skips jieba's generators but must cut exactly as jieba does without HMM."""
    kb = KnowledgeBase.from_entries([entry("k", "乐分期宝", keywords=["乐分期宝", "abc客服"])])
    segmenter = kb._matcher._segmenter
    assert segmenter._cut(block) == list(segmenter._tokenizer.cut(block, HMM=False))


def test_empty_and_latin_only_knowledge_bases() -> None:
    """No entries, or entries without a single CJK character, still build and match."""
    assert KnowledgeBase.from_entries([]).match("怎么退货").tier is Tier.NONE
    english = KnowledgeBase.from_entries([entry("refund", "How do I get a refund?", answer="Tap Refund.")])
    assert english.match("refund please").best.entry.id == "refund"
    assert english.match("退货").tier is Tier.NONE


def test_many_entries_build_in_chunks_and_match_the_right_one() -> None:
    """More entries than one build chunk: ids, postings and phrasings stay aligned across chunks."""
    entries = [
        entry(f"item-{number}", f"商品{number}号怎么退货", keywords=[f"型号{number}x"], answer=f"第{number}号的答案。")
        for number in range(6_000)
    ]
    kb = KnowledgeBase.from_entries(entries)
    for number in (0, 2_999, 5_999):
        assert kb.match(f"型号{number}x怎么退货").best.entry.id == f"item-{number}"


def test_everyday_synonyms_meet_across_words_that_share_no_character() -> None:
    # 变更 and 修改 share no character: only the synonym group tells the two entries apart.
    kb = KnowledgeBase.from_entries(
        [
            entry("plan-change", "修改套餐", answer="在设置页修改。"),
            entry("plan-cancel", "取消套餐", answer="联系客服。"),
        ]
    )
    match = kb.match("我要变更套餐")
    assert match.candidates[0].entry.id == "plan-change"
    assert match.candidates[0].score > match.candidates[1].score


def test_a_synonym_counts_less_than_the_word_itself() -> None:
    kb = KnowledgeBase.from_entries(
        [
            entry("edit", "修改收货地址", answer="在订单页修改。"),
            entry("change", "变更收货地址", answer="在订单页变更。"),
        ]
    )
    assert kb.match("变更收货地址").candidates[0].entry.id == "change"
    assert kb.match("修改收货地址").candidates[0].entry.id == "edit"


def test_customers_see_the_answer_alone_or_only_the_suggestions_worth_a_button() -> None:
    first, second, third = (entry(f"e{n}", f"问题{n}") for n in range(3))
    candidates = (Candidate(first, 0.5), Candidate(second, 0.3), Candidate(third, 0.01))
    assert [c.entry.id for c in Match(Tier.SUGGEST, candidates).shown()] == ["e0", "e1"]
    assert [c.entry.id for c in Match(Tier.ANSWER, candidates).shown()] == ["e0"]
    assert Match(Tier.NONE, candidates).shown() == ()
    # The best guess is always offered, however unsure.
    assert [c.entry.id for c in Match(Tier.SUGGEST, (Candidate(first, 0.01),)).shown()] == ["e0"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("電視螢幕壞了，保固期內能免費維修嗎？", "电视萤幕坏了 保固期内能免费维修吗"),
        ("會員積分兌換禮品", "会员积分兑换礼品"),
    ],
)
def test_traditional_characters_fold_beyond_the_common_ones(written: str, expected: str) -> None:
    # 螢 and 兌 are outside the hand-made table: the full character table folds them.
    assert normalise(written) == expected


def test_characters_that_are_also_simplified_stay_as_they_are() -> None:
    assert normalise("覆盖 藉口 著名") == "覆盖 藉口 著名"


def test_the_right_entry_is_found_beyond_a_common_terms_posting_cap() -> None:
    """退款 is in 300 entries' questions, far more than the postings a term keeps for finding candidates; 发票 is
    in 21 entries, all with the same question. Only the last of those mentions 退款, once, deep in a long
    answer: the weakest posting 退款 has. Found through 发票 and scored on every posting of both terms, it
    comes first, though the other twenty share its question and come earlier in the knowledge base."""
    cap = KnowledgeBase.from_entries([]).matcher.weights.postings_per_term
    filler = "营业时间为工作日上午九点至下午五点，节假日另行通知，详情请咨询门店工作人员。"
    entries = [entry(f"refund-{number}", f"怎么退款{number}", answer="在订单页申请。") for number in range(300)]
    entries += [entry(f"invoice-{number}", "开发票", answer=filler) for number in range(20)]
    entries.append(entry("invoice-refund", "开发票", answer=filler * 3 + "退款以后也可以。"))
    kb = KnowledgeBase.from_entries(entries)
    matcher = kb.matcher
    query = matcher._query("退款开发票")
    refund = matcher._index.vocabulary.words["退款"]
    assert sum(1 for text in entries if "退款" in text.question + text.answer) > 2 * cap  # beyond the cap
    assert refund in query.terms.tolist()
    ranked = matcher._retrieve(query.terms)
    assert ranked[0][0] == len(entries) - 1  # the entry number of invoice-refund
    assert ranked[0][1] > ranked[1][1]
    match = kb.match("退款开发票")
    assert match.candidates[0].entry.id == "invoice-refund"
    assert match.candidates[1].entry.id.startswith("invoice-")
