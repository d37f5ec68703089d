"""Properties of the text paths, for any input hypothesis can think of: cleaning, deciding, splitting for Telegram."""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from app.config import load_settings
from crm_store import ContentKind
from desk import actions
from desk.intents import Intent
from desk.routing import decide_message
from desk.text_input import clean_text
from handlers.render import MAX_MESSAGE, split_for_telegram
from knowledge import KnowledgeBase, warm_up

ROOT = Path(__file__).resolve().parent.parent
# No example database: nothing is written into the working tree, and every run explores afresh.
PROPERTY = settings(database=None, deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Text as it arrives from Telegram's JSON: any code point, lone surrogates included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
customer_text = st.one_of(
    any_text,
    st.text(alphabet="退货款发票投诉人工转客服怎么多久到账 <>&\"'*_`/\n\t\u200b\x00", max_size=60),
    st.sampled_from(["转人工", "我要投诉", "怎么退货", "你好", "谢谢", "  ", "\u200b", "<b>", "</code>", "*bold*"]),
)


@pytest.fixture(scope="module")
def shipped() -> tuple[KnowledgeBase, tuple[str, ...]]:
    """The shipped knowledge base and complaint lexicon, as bot.py loads them."""
    config = load_settings(ROOT / "config.toml")
    warm_up()
    kb = KnowledgeBase.load(config.knowledge.paths, config.knowledge.thresholds)
    return kb, tuple(config.complaints.lexicon)


# ---------------------------------------------------------------------------------------------- clean_text


@PROPERTY
@given(text=any_text, limit=st.integers(min_value=1, max_value=400))
@example(text="a" * 10 + "  b", limit=11)
@example(text="e\u200b\u0301", limit=10)
@example(text="\ud800\udfff\x00", limit=10)
def test_clean_text_is_storable_bounded_and_stable(text: str, limit: int) -> None:
    """Cleaned text encodes to UTF-8 (PostgreSQL takes it), has no NUL or control characters, fits the limit,
    has no outer whitespace, is NFC, and cleaning it again changes nothing."""
    cleaned = clean_text(text, limit)
    cleaned.encode("utf-8")  # raises on a lone surrogate
    assert "\x00" not in cleaned and not CONTROL.search(cleaned)
    assert len(cleaned) <= limit
    assert cleaned == cleaned.strip()
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean_text(cleaned, limit) == cleaned


@PROPERTY
@given(text=st.text(st.sampled_from(" \t\n\r\u200b\u200e\ufeff\x00\x07\x1f\u3000"), max_size=50))
def test_blank_text_cleans_to_nothing(text: str) -> None:
    """Whitespace, zero-width and control characters alone are an empty message."""
    assert clean_text(text, 4096) == ""


@PROPERTY
@given(text=st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S"]), min_size=1, max_size=200))
def test_clean_text_keeps_ordinary_text(text: str) -> None:
    """Letters, digits, punctuation and symbols pass unchanged (up to Unicode normalisation)."""
    assume(not CONTROL.search(text))
    assert clean_text(text, 4096) == unicodedata.normalize("NFC", text).strip()


# ---------------------------------------------------------------------------------------------- decide_message


@PROPERTY
@given(text=customer_text, kind=st.sampled_from([ContentKind.TEXT, ContentKind.EDITED, ContentKind.PHOTO]))
def test_every_message_gets_a_sendable_decision(
    shipped: tuple[KnowledgeBase, tuple[str, ...]], text: str, kind: ContentKind
) -> None:
    """Whatever the customer writes, the desk decides without raising, and everything it would send is sendable:
    non-blank text, button labels Telegram accepts, callback data we can parse back (≤ 64 bytes)."""
    kb, lexicon = shipped
    cleaned = clean_text(text, 4096)
    for language in ("zh", "en"):
        decision = decide_message(kb, kind, cleaned, language, business="优选商城", complaint_words=lexicon)
        assert isinstance(decision.intent, Intent)
        if decision.intent in (Intent.COMPLAINT, Intent.HANDOFF):
            assert decision.replies == ()  # the ticket's acknowledgement is written later
            continue
        assert decision.replies, f"no reply for {cleaned!r}"
        if not cleaned:
            assert decision.intent in (Intent.EMPTY, Intent.MEDIA)
        for reply in decision.replies:
            assert reply.text.strip()
            for row in reply.buttons:
                for button in row:
                    assert button.label.strip() and len(button.label) <= 64
                    assert len(button.action.encode()) <= actions.MAX_BYTES
                    assert actions.parse_action(button.action) is not None


@PROPERTY
@given(text=customer_text)
def test_commands_never_fall_through_to_the_knowledge_base(
    shipped: tuple[KnowledgeBase, tuple[str, ...]], text: str
) -> None:
    """A command (even a strange one) is answered as a command: welcome, help, complaint, or unknown."""
    kb, lexicon = shipped
    command = clean_text("/" + text, 4096)
    decision = decide_message(kb, ContentKind.COMMAND, command, "zh", complaint_words=lexicon)
    assert decision.intent in (Intent.WELCOME, Intent.HELP, Intent.COMPLAINT, Intent.UNKNOWN_COMMAND)


# ---------------------------------------------------------------------------------------------- split_for_telegram


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@PROPERTY
@given(
    text=st.one_of(
        any_text,
        st.text(st.sampled_from("<>&\"'a \n中"), max_size=400),
        st.lists(st.text(st.sampled_from("&<ab中 "), max_size=80), max_size=12).map("\n".join),
    ),
    limit=st.integers(min_value=6, max_value=120),
)
@example(text="a" * 20 + "\n", limit=20)
@example(text="&" * 30, limit=7)
@example(text="", limit=10)
def test_split_parts_fit_keep_entities_whole_and_join_back(text: str, limit: int) -> None:
    """Every part fits, is not blank (Telegram refuses blank messages), never cuts an HTML entity, and the
    parts unescaped and joined give back the text (each part a piece of it, whitespace kept inside parts)."""
    parts = split_for_telegram(text, limit)
    assert bool(parts) == bool(text.strip())
    for part in parts:
        assert len(part) <= limit
        assert part.strip(), f"blank part in {parts!r}"
        assert html.escape(html.unescape(part)) == part, f"entity cut or unescaped markup in {part!r}"
        assert "<" not in part and ">" not in part
    # Whitespace at a cut is where one message ends and the next begins; everything else comes back in order.
    assert _squeeze("".join(html.unescape(part) for part in parts)) == _squeeze(text)
    assert all(html.unescape(part).strip() in text for part in parts)


@PROPERTY
@given(
    text=st.text(st.characters(codec="utf-8"), min_size=1, max_size=9000).filter(str.strip),
)
def test_split_at_the_real_limit(text: str) -> None:
    """At Telegram's 4,096 characters: no part longer, nothing lost."""
    parts = split_for_telegram(text)
    assert all(0 < len(part) <= MAX_MESSAGE for part in parts)
    assert _squeeze("".join(html.unescape(part) for part in parts)) == _squeeze(text)
