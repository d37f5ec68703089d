"""Which Chinese script a text is written in, and simplified text put into Traditional (OpenCC)."""

from __future__ import annotations

from functools import cache
from typing import Any

from knowledge.traditional import SIMPLIFIED, TRADITIONAL

_TRADITIONAL_ONLY = frozenset(TRADITIONAL)
_SIMPLIFIED_ONLY = frozenset(SIMPLIFIED) - _TRADITIONAL_ONLY


def chinese_script(text: str) -> str | None:
    """ "hant" when the text has more characters found only in Traditional than only in simplified, "hans"
    when fewer, None when it shows neither (您好, 退款 are written the same in both)."""
    traditional = sum(1 for char in text if char in _TRADITIONAL_ONLY)
    simplified = sum(1 for char in text if char in _SIMPLIFIED_ONLY)
    if traditional == simplified:
        return None
    return "hant" if traditional > simplified else "hans"


@cache
def _converter() -> Any:
    from opencc import OpenCC  # loaded on first use: most customers write simplified

    return OpenCC("s2t")


def to_traditional(text: str) -> str:
    """Simplified Chinese put into Traditional, phrase by phrase (发票 → 發票); other text unchanged."""
    return str(_converter().convert(text)) if text else text
