"""Making customer text safe to store and match: no control characters, no broken Unicode, bounded size."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(text: str | None, max_chars: int) -> str:
    if not text:
        return ""
    # Lone surrogates cannot be stored in PostgreSQL or encoded to UTF-8; replace them.
    text = text.encode("utf-8", "replace").decode("utf-8")
    # Controls out before normalising: a zero-width space between a letter and its accent would
    # otherwise leave the pair uncomposed. Strip again after the cut, which may end on a space.
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()
    return text[:max_chars].rstrip()
