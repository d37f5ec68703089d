"""What a message asks about, and whether an entry offers it: siblings of one topic are told apart by it."""

from __future__ import annotations

from knowledge import Entry, KnowledgeBase
from knowledge.matcher import FEATURES
from knowledge.question_types import TYPE_NAMES, agreement, asked, offered, topics
from knowledge.text import normalise


def column(kb: KnowledgeBase, message: str, feature: str) -> dict[str, float]:
    """One feature's value for each candidate of `message`, by entry id."""
    numbers, rows, _ = kb.matcher.features(message)
    at = FEATURES.index(feature)
    return {kb.matcher.entries[number].id: row[at] for number, row in zip(numbers, rows, strict=True)}


def names(mask: int) -> set[str]:
    return {name for bit, name in enumerate(TYPE_NAMES) if mask >> bit & 1}


def test_a_customer_asks_in_question_words_chinese_and_english() -> None:
    assert names(asked(normalise("办信用卡要多少钱？"))) == {"cost", "amount"}
    assert names(asked(normalise("为什么我的卡不能用"))) == {"failure"}
    assert names(asked(normalise("退款多久到账"))) == {"time"}
    assert names(asked(normalise("How much is the annual FEE?"))) == {"cost", "amount", "how"}
    assert names(asked(normalise("Where is the nearest branch"))) == {"place"}
    # English cues are whole words, even against Chinese with no space between.
    assert names(asked(normalise("show me the menu"))) == set()
    assert names(asked(normalise("年费fee"))) == {"cost"}
    assert asked(normalise("信用卡")) == 0


def test_an_entry_offers_in_its_title_or_in_the_question_it_is_written_as() -> None:
    assert names(offered([normalise("信用卡年费")])) == {"cost"}
    assert names(offered([normalise("网路银行无法登入的原因")])) == {"failure"}
    assert names(offered([normalise("退款多久到账？")])) == {"time"}
    assert names(offered([normalise("信用卡申请方式"), normalise("怎么办卡")])) == {"how"}


def test_agreement_is_the_share_of_what_is_asked_that_is_offered() -> None:
    cost, time, how = (1 << TYPE_NAMES.index(name) for name in ("cost", "time", "how"))
    assert agreement(cost | how, cost) == 0.5
    assert agreement(cost, cost | time) == 1.0
    assert agreement(time, cost) == 0.0
    assert agreement(0, cost) == 0.0


def test_siblings_sharing_every_content_word_differ_in_the_question_type_column() -> None:
    kb = KnowledgeBase.from_entries(
        [
            Entry(id="fee", question="信用卡年费", answer="首年免年费。"),
            Entry(id="apply", question="信用卡申请方式", answer="在官网填表。"),
            Entry(id="broken", question="信用卡无法使用的原因", answer="可能已停卡。"),
        ]
    )
    for message, expected in (("信用卡年费要多少钱", "fee"), ("信用卡为什么不能用", "broken")):
        values = column(kb, message, "question_type")
        assert values[expected] > 0.0
        assert all(value == 0.0 for entry_id, value in values.items() if entry_id != expected), values
        assert kb.match(message).best.entry.id == expected


def test_a_topic_is_a_phrasing_without_its_question_words_one_per_line() -> None:
    phrasings = ["信用卡年费是多少？", "汽车贷款清偿证明申请", "How to apply for a card?"]
    expected = ["信用卡", "汽车贷款清偿证明", "foracard"]
    assert topics(normalise(phrasing) for phrasing in phrasings).split("\n") == expected
    # The longest cue goes whole: 多少钱 leaves no 钱 behind.
    assert topics([normalise("开户多少钱")]) == "开户"


def test_the_entry_whose_topic_the_message_writes_in_full_has_the_best_topic_column() -> None:
    """我要申请汽车贷款: 汽车贷款申请方式 is about 汽车贷款, the sibling about 汽车贷款清偿证明, which the message
    writes less of, although both titles hold 申请."""
    kb = KnowledgeBase.from_entries(
        [
            Entry(id="apply", question="汽车贷款申请方式", answer="临柜或线上申请。"),
            Entry(id="paid-off", question="汽车贷款清偿证明申请", answer="结清后七日内寄出。"),
        ]
    )
    assert column(kb, "我要申请汽车贷款", "topic_characters") == {"apply": 1.0, "paid-off": 0.5}


def test_query_topic_is_how_much_of_what_the_message_is_about_an_entry_holds() -> None:
    """汽车贷款怎么申请 is about 汽车贷款: all of it is the loan entry's topic, none of it the card entry's, and
    half of it (贷款) the keyword of a third entry whose title says nothing of it."""
    kb = KnowledgeBase.from_entries(
        [
            Entry(id="loan", question="汽车贷款申请方式", answer="临柜或线上申请。"),
            Entry(id="card", question="信用卡申请方式", answer="在官网填表。"),
            Entry(id="rates", question="利率说明", answer="按牌告利率。", keywords=["贷款利率"]),
        ]
    )
    values = column(kb, "汽车贷款怎么申请", "query_topic")
    assert values["loan"] == 1.0
    assert values.get("card", 0.0) == 0.0
    assert values["rates"] == 0.5


def test_english_siblings_are_told_apart_by_what_is_asked() -> None:
    kb = KnowledgeBase.from_entries(
        [
            Entry(id="fee", question="What is the annual fee of the credit card?", answer="NT$1,200 a year."),
            Entry(id="apply", question="How do I apply for a credit card?", answer="Apply online."),
            Entry(id="login", question="Why can't I log in to online banking?", answer="Reset your password."),
            Entry(id="hours", question="Branch opening hours", answer="9:00-15:30."),
            Entry(id="where", question="Where is the nearest branch?", answer="See the map."),
        ]
    )
    expected = {
        "how much is the credit card fee": "fee",
        "credit card application steps": "apply",
        "applying for cards": "apply",
        "I cannot log in": "login",
        "when does the branch open": "hours",
        "what time do branches close": "hours",  # branches / branch: one stem
        "where can i find a branch": "where",
    }
    assert {message: kb.match(message).best.entry.id for message in expected} == expected
