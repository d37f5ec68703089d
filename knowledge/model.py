"""The knowledge base's public data types: entries, thresholds, match results and load errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Ids travel in Telegram callback data (`pick:<id>`, 64 bytes at most), so they stay short and ASCII.
ENTRY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


# One set of given field names per combination, shared by every entry given the same fields.
_SHARED_FIELD_SETS: dict[frozenset[str], set[str]] = {}


class Entry(BaseModel):
    """One question the desk can answer, with the other ways customers ask it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str
    question: str = Field(min_length=1)
    alternates: list[str] = []
    keywords: list[str] = []
    category: str = ""
    answer: str = Field(min_length=1)
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _id_fits_callback_data(cls, value: str) -> str:
        if not ENTRY_ID_PATTERN.fullmatch(value):
            raise ValueError("must be 1-40 characters of A-Z a-z 0-9 _ . -")
        return value

    @field_validator("alternates", "keywords")
    @classmethod
    def _drop_blank_items(cls, values: list[str]) -> list[str]:
        # A trailing "|" in a CSV cell or an empty YAML item is a typo, not a phrasing.
        return [value.strip() for value in values if value.strip()]

    def model_post_init(self, context: object, /) -> None:
        # Each instance would keep its own set of the field names it was given (about 700 bytes, 70 MB
        # at 100k entries); entries are frozen and pydantic copies the set before changing a copy's.
        names = self.__pydantic_fields_set__
        object.__setattr__(self, "__pydantic_fields_set__", _SHARED_FIELD_SETS.setdefault(frozenset(names), names))

    @property
    def phrasings(self) -> list[str]:
        """The question first, then every alternate: each is matched on its own."""
        return [self.question, *self.alternates]


class Thresholds(BaseModel):
    """Cut-offs of the three tiers on the matcher's confidence: the probability that the best candidate is
    what the customer meant (see `knowledge.matcher`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: float = Field(default=0.6, ge=0.0, le=1.0)
    suggest: float = Field(default=0.2, ge=0.0, le=1.0)
    margin: float = Field(default=0.1, ge=0.0, le=1.0)


class Tier(StrEnum):
    """How sure the matcher is: answer outright, offer choices, or stay silent."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    NONE = "none"


# A suggestion fewer than one customer in fifty would pick is noise on the screen, not a choice.
SUGGESTION_FLOOR = 0.02


@dataclass(frozen=True)
class Candidate:
    """An entry and how well it matches the query (0..1)."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class Match:
    """The matcher's verdict: for ANSWER, `candidates[0]` is the answer; best first, at most `limit`."""

    tier: Tier
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def shown(self) -> tuple[Candidate, ...]:
        """What the customer sees: the answer alone, the suggestions worth a button, or nothing."""
        if self.tier is Tier.ANSWER:
            return self.candidates[:1]
        if self.tier is Tier.SUGGEST:
            return self.candidates[:1] + tuple(c for c in self.candidates[1:] if c.score >= SUGGESTION_FLOOR)
        return ()


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a knowledge file, located as precisely as we can."""

    file: str
    entry: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.entry is not None:
            where.append(f"entry '{self.entry}'")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{': '.join(where)}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base could not be loaded; `problems` lists everything found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
