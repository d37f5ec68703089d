"""Which language to answer in: the message's own script first, then the customer's setting."""

from __future__ import annotations

import re
from typing import Protocol

from knowledge.script import chinese_script, to_traditional

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")


class _Speaker(Protocol):
    language: str | None
    written_language: str | None


def customer_language(customer: _Speaker) -> str | None:
    """What the customer writes in if we have seen it, else their app's language setting."""
    return customer.written_language or customer.language


def typed_language(text: str) -> str | None:
    """The language of a text by its script: Chinese if it has CJK characters, else English if it has a Latin
    word, else None (digits, emoji)."""
    if _CJK.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return None


def settled_language(text: str) -> str | None:
    """The language a typed message shows clearly enough to answer the customer's next button press in: any
    Chinese, or two Latin words and no Chinese ("ok" or "VIP" alone from a Chinese customer settles nothing)."""
    language = typed_language(text)
    if language == "en" and len(_LATIN.findall(text)) < 2:
        return None
    return language


def reply_language(text: str, preferred: str | None, default: str = "zh") -> str:
    """The text's own language; without one (a button, a command, staff writing) the customer's, then `default`.
    `preferred` is a language code ("zh-hans", "en"), as `customer_language` gives it."""
    typed = typed_language(text)
    if typed is not None:
        return typed
    if preferred:
        return "zh" if preferred.lower().startswith("zh") else "en"
    return default


def written_in(text: str) -> str:
    """The language a text is mainly written in: Chinese when it has more CJK characters than Latin words
    (a Chinese answer may name an app or a price in Latin letters; an English one may quote 发票)."""
    return "zh" if len(_CJK.findall(text)) > len(_LATIN.findall(text)) else "en"


# Stored as the customer's written language when they write Chinese in Traditional characters.
TRADITIONAL_CHINESE = "zh-hant"


def written_language_of(text: str, before: str | None) -> str | None:
    """What a message says about the language the customer writes: "zh-hant" for Traditional, "zh" for
    simplified, "en"; a Chinese message that shows no script (您好) keeps what was known before."""
    settled = settled_language(text)
    if settled != "zh":
        return settled
    script = chinese_script(text)
    if script is None:
        return before if before in ("zh", TRADITIONAL_CHINESE) else "zh"
    return TRADITIONAL_CHINESE if script == "hant" else "zh"


def in_their_script(text: str, written_language: str | None) -> str:
    """A reply put into Traditional for a customer who writes Traditional; unchanged for anyone else."""
    return to_traditional(text) if written_language == TRADITIONAL_CHINESE else text
