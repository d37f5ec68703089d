"""Which language to answer in: the message's own script first, then the customer's setting."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")


def reply_language(text: str, customer_language: str | None, default: str = "zh") -> str:
    if _CJK.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    if customer_language:
        return "zh" if customer_language.lower().startswith("zh") else "en"
    return default


def written_in(text: str) -> str:
    """The language a text is mainly written in: Chinese when it has more CJK characters than Latin words
    (a Chinese answer may name an app or a price in Latin letters; an English one may quote 发票)."""
    return "zh" if len(_CJK.findall(text)) > len(_LATIN.findall(text)) else "en"
