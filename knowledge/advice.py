"""Advice for knowledge authors: valid entries that will still match badly.

Not errors (the knowledge base loads and serves), but what `check` points out so an author can fix it
before customers notice: the same phrasing in two entries (a customer asking it gets either one), and
phrasings that say almost nothing once polite words are dropped (they attract unrelated messages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.model import Entry
from knowledge.text import Segmenter, normalise

# Fewer content characters than this and a phrasing matches on a word or two of anything.
MIN_CONTENT_CHARACTERS = 2


@dataclass(frozen=True)
class Advice:
    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: entry '{self.entry}': field '{self.field}': {self.message}"


def advise(entries: Sequence[Entry], segmenter: Segmenter, origins: Mapping[str, Path] | None = None) -> list[Advice]:
    """Duplicate phrasings across entries and phrasings with (almost) no content, in entry order."""
    origins = origins or {}
    advice: list[Advice] = []
    first_use: dict[str, tuple[str, str]] = {}
    for entry in entries:
        if not entry.enabled:
            continue
        where = str(origins.get(entry.id, "(entries)"))
        for field, phrasing in _phrasings(entry):
            compact = normalise(phrasing).replace(" ", "")
            owner = first_use.setdefault(compact, (entry.id, field))
            if compact and owner[0] != entry.id:
                message = f"the same phrasing as entry '{owner[0]}' ({owner[1]}): customers asking it get either"
                advice.append(Advice(where, entry.id, field, message))
            content = "".join(segmenter.analyse(phrasing).words)
            if len(content) < MIN_CONTENT_CHARACTERS:
                shown = f"only 「{content}」 is left" if content else "nothing is left"
                message = f"{shown} once polite words are dropped: it will match unrelated messages"
                advice.append(Advice(where, entry.id, field, message))
    return advice


def _phrasings(entry: Entry) -> list[tuple[str, str]]:
    return [("question", entry.question)] + [
        (f"alternates[{number}]", text) for number, text in enumerate(entry.alternates)
    ]
