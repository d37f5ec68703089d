"""People's names as they are written in their own language: 王芳, not Telegram's "芳 王"."""

from __future__ import annotations

import re

# Han characters (CJK unified ideographs and their extensions), and the middle dot of transliterated names.
_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f·・]+$")


def person_name(first: str | None, last: str | None) -> str:
    """The name to show for a first and a last name: family name first, without a space, when both are
    Chinese (芳 + 王 → 王芳); otherwise "first last" as Telegram shows it."""
    first, last = (first or "").strip(), (last or "").strip()
    if first and last and _HAN.match(first) and _HAN.match(last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)
