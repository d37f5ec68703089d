"""Customers who write in the other language: English messages against a Chinese FAQ and the reverse."""

from __future__ import annotations

import pytest

from crm_store import ContentKind
from desk import actions
from desk.intents import Intent
from desk.routing import decide_action, decide_message
from knowledge import Entry, KnowledgeBase, Tier
from knowledge import matcher as matcher_module
from knowledge.bridge import Dictionary, sense_key, shared_dictionary
from knowledge.text import normalise

pytestmark = pytest.mark.skipif(shared_dictionary() is None, reason="the dictionary package is a dependency")


def entry(entry_id: str, question: str, keywords=(), answer: str = "") -> Entry:
    return Entry(id=entry_id, question=question, keywords=list(keywords), answer=answer or f"{question}：见说明。")


BANK = [
    entry("card-annual-fee", "信用卡年费怎么收", ["年费", "信用卡"]),
    entry("card-lost", "信用卡挂失方法", ["挂失", "信用卡"]),
    entry("card-apply", "信用卡申请方式", ["申请", "信用卡"]),
    entry("fx-account", "外币帐户开户方式", ["外币", "开户"]),
    entry("transfer-time", "转帐多久入帐", ["转帐", "入帐"]),
    entry("mortgage-rate", "房屋贷款利率查询", ["房贷", "利率"]),
    entry("atm-limit", "ATM提款限额", ["ATM", "限额"]),
    entry("hours", "分行营业时间", ["营业时间", "分行"]),
]
SHOP_EN = [
    entry("en-fee", "credit card annual fee"),
    entry("en-return", "how to return goods"),
    entry("en-hours", "store opening hours"),
    entry("en-exchange-rate", "foreign exchange rate"),
]


@pytest.fixture(scope="module")
def bank() -> KnowledgeBase:
    return KnowledgeBase(BANK)


def top(kb: KnowledgeBase, message: str) -> str | None:
    match = kb.match(message)
    return match.candidates[0].entry.id if match.candidates else None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("why is there an annual fee on my credit card", "card-annual-fee"),
        ("how do I report the loss of my credit card", "card-lost"),
        ("apply for a credit card", "card-apply"),
        ("open a foreign currency account", "fx-account"),
        ("mortgage interest rate", "mortgage-rate"),
        ("信用卡annual fee多少", "card-annual-fee"),
    ],
)
def test_english_messages_reach_the_chinese_entry_they_mean(bank: KnowledgeBase, message: str, expected: str):
    assert top(bank, message) == expected


def test_without_the_dictionary_english_finds_nothing_in_a_chinese_faq(monkeypatch, bank: KnowledgeBase):
    # The same knowledge base built where the dictionary is not installed: matching still works, in Chinese.
    monkeypatch.setattr(matcher_module, "shared_dictionary", lambda: None)
    plain = KnowledgeBase(BANK)
    assert plain.match("why is there an annual fee on my credit card").tier is Tier.NONE
    assert top(plain, "信用卡年费多少") == "card-annual-fee"


def test_translation_adds_only_the_knowledge_bases_own_words(bank: KnowledgeBase):
    bridge = bank.matcher._bridge
    text = normalise("I lost my credit card, please help")
    rewritten = bridge.rewrite(text, bank.matcher.segmenter.analyse_normalised(text).words)
    assert rewritten is not None
    added = set(rewritten.split()) - set(text.split())
    vocabulary = bank.matcher._index.vocabulary.words
    assert added and all(vocabulary.get(word, -1) >= 0 for word in added)
    assert "信用卡" in added
    # What was translated leaves the text: it would otherwise count as words nobody knows.
    assert not {"credit", "card"} & set(rewritten.split())


def test_english_the_knowledge_base_uses_stays_english_in_a_chinese_message(bank: KnowledgeBase):
    text = normalise("ATM每天可以领多少")
    assert bank.matcher._bridge.rewrite(text, bank.matcher.segmenter.analyse_normalised(text).words) is None
    assert top(bank, "ATM每天可以领多少") == "atm-limit"


def test_chinese_messages_reach_an_english_faq():
    kb = KnowledgeBase(SHOP_EN)
    assert top(kb, "信用卡年费") == "en-fee"
    assert top(kb, "外汇汇率") == "en-exchange-rate"
    assert top(kb, "credit card annual fee") == "en-fee"


def test_a_chinese_message_to_a_chinese_faq_is_never_rewritten(bank: KnowledgeBase):
    for message in ("信用卡年费多少", "我的卡丢了怎么办", "房贷利率"):
        text = normalise(message)
        assert bank.matcher._bridge.rewrite(text, bank.matcher.segmenter.analyse_normalised(text).words) is None


def test_dictionary_senses_skip_notes_and_keep_meanings():
    dictionary = Dictionary(
        [
            "# CC-CEDICT comment line\n",
            "年費 年费 [nian2 fei4] /annual fee/\n",
            "轉賬 转账 [zhuan3 zhang4] /to transfer money (between accounts); to make a payment/\n",
            "張 张 [zhang1] /surname Zhang/to open up/CL:個|个[ge4]/see also 張開|张开[zhang1 kai1]/\n",
            "not a dictionary line\n",
        ]
    )
    assert len(dictionary) == 3
    assert dictionary.senses("年费") == ("annual fee",)
    assert dictionary.senses("转账") == ("transfer money", "make payment")
    # Taiwan's 帐 is the dictionary's 账.
    assert dictionary.senses("转帐") == dictionary.senses("转账")
    assert dictionary.senses("张") == ("open",)
    assert dictionary.senses("没有的词") == ()


@pytest.mark.parametrize(
    ("phrase", "key"),
    [
        ("to report the loss (of something)", "report loss"),
        ("Costco (warehouse club chain)", "costco"),
        ("lost", sense_key("lose")),
        ("cheques", "check"),
        ("why", ""),
    ],
)
def test_sense_keys_spell_phrases_as_the_matcher_analyses_them(phrase: str, key: str):
    assert sense_key(phrase) == key


def test_an_english_customer_is_told_when_the_answer_is_in_chinese(bank: KnowledgeBase):
    english = decide_message(bank, ContentKind.TEXT, "how do I report the loss of my credit card", "en")
    chinese = decide_message(bank, ContentKind.TEXT, "信用卡挂失方法", "zh")
    assert english.intent is Intent.ANSWERED and chinese.intent is Intent.ANSWERED
    assert english.entry_id == chinese.entry_id == "card-lost"
    # The same answer, with a word in English first about the language and the way to a person.
    assert english.replies[0].text.startswith("We only have this answer in Chinese")
    assert english.replies[0].text.endswith(chinese.replies[0].text)
    assert "Chinese" not in chinese.replies[0].text


def test_a_picked_suggestion_gets_no_language_line(bank: KnowledgeBase):
    # The customer chose the entry by its title; before any typed message the language is the app's setting.
    picked = decide_action(bank, actions.pick("card-lost"), "en")
    assert picked.intent is Intent.PICKED
    assert picked.replies[0].text == bank.get("card-lost").answer.strip()
