"""How report labels read: questions wrapped to fit beside a bar, durations in a unit that suits them.

Plain functions, so the chart and the summary agree and tests read the text without drawing anything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ELLIPSIS = "…"
# A chart label of 30 columns is some 15 Chinese characters, which leaves the bars most of the width.
LABEL_COLUMNS = 30
LABEL_LINES = 3
# Words stay whole; Chinese, which has no spaces, may break between any two characters.
_PIECES = re.compile(r"\s+|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|.", re.DOTALL)


def columns(text: str) -> int:
    """The width of `text` in a fixed-width font: a Chinese (wide) character takes two columns."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def wrap_label(text: str, width: int = LABEL_COLUMNS, lines: int = LABEL_LINES) -> str:
    """`text` on at most `lines` lines of at most `width` columns, broken between words (or Chinese
    characters); only what does not fit in them is cut, marked with an ellipsis."""
    wrapped: list[str] = []
    line = ""
    for piece in _pieces(text, width):
        if piece.isspace():
            line = line + " " if line else line
            continue
        if line and columns(line + piece) > width:
            wrapped.append(line.rstrip())
            line = ""
        line += piece
    if line.strip():
        wrapped.append(line.rstrip())
    if len(wrapped) <= lines:
        return "\n".join(wrapped)
    kept = wrapped[:lines]
    last = kept[-1]
    while last and columns(last + ELLIPSIS) > width:
        last = last[:-1]
    kept[-1] = last.rstrip() + ELLIPSIS
    return "\n".join(kept)


def _pieces(text: str, width: int) -> list[str]:
    """Words, single Chinese characters and spaces; a word wider than a line is split to fit one."""
    pieces = []
    for piece in _PIECES.findall(" ".join(text.split())):
        while columns(piece) > width:
            cut = width
            while columns(piece[:cut]) > width:
                cut -= 1
            pieces.append(piece[:cut])
            piece = piece[cut:]
        pieces.append(piece)
    return pieces


@dataclass(frozen=True)
class TimeUnit:
    """A unit for durations: its symbol, its axis label, and how many of it make a minute."""

    symbol: str
    axis: str
    per_minute: float

    def of(self, minutes: float) -> float:
        return minutes * self.per_minute


SECONDS = TimeUnit("s", "秒 Seconds", 60.0)
MINUTES = TimeUnit("min", "分钟 Minutes", 1.0)
HOURS = TimeUnit("h", "小时 Hours", 1 / 60)


def time_unit(minutes: float) -> TimeUnit:
    """The unit in which `minutes` reads best: seconds under a minute, hours from an hour and a half."""
    if minutes < 1:
        return SECONDS
    return MINUTES if minutes < 90 else HOURS


def duration_text(minutes: float) -> str:
    """`minutes` in its own unit, one decimal while the number is small: 0.2 s, 42 s, 3.5 min, 12 min, 1.5 h."""
    unit = time_unit(minutes)
    value = unit.of(minutes)
    number = f"{value:.1f}".removesuffix(".0") if value < 10 else f"{value:.0f}"
    return f"{number} {unit.symbol}"
