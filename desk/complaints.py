"""Complaint rules as plain functions: is it a complaint, what caused it, how urgent, by when.

The seeds' rules (DOMAIN.md section 3): every complaint is registered at once, classified by cause,
and promised a deadline — 12 hours in the home region, 24 hours elsewhere, shorter for key customers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from crm_store.causes import CAUSE_LABELS, OTHER_CAUSE
from crm_store.models import Priority
from desk.hours import BusinessHours, add_working, working_between
from knowledge.text import normalise


def is_complaint(folded: str, lexicon: Iterable[str]) -> bool:
    """True when the message contains a complaint word (the customer says it is one).

    `folded` is the message through `knowledge.text.normalise`, the one normaliser: width, case and
    Traditional characters folded, so 我要投訴 and ＣＯＭＰＬＡＩＮＴ count as much as 我要投诉.
    """
    return any(word in folded for word in _folded(tuple(lexicon)))


def classify_cause(text: str, causes: Mapping[str, Sequence[str]]) -> str:
    """The cause whose keywords occur most often in the text; ties go to the first listed; else 'other'."""
    folded = normalise(text)
    best, best_hits = OTHER_CAUSE, 0
    for cause, words in causes.items():
        hits = sum(1 for word in _folded(tuple(words)) if word in folded)
        if hits > best_hits:
            best, best_hits = cause, hits
    return best


@cache
def _folded(words: tuple[str, ...]) -> tuple[str, ...]:
    """Configured words, folded like messages (once: the lexicon is the same for every message)."""
    return tuple(folded for folded in (normalise(word) for word in words) if folded)


@dataclass(frozen=True)
class DeadlineRules:
    home_regions: tuple[str, ...] = ("杭州",)
    home_hours: float = 12
    other_hours: float = 24
    unknown_region_is_home: bool = False
    tag_hours: Mapping[str, float] | None = None
    # The promised hours count only these (sla.clock = "working"); None: every hour counts.
    hours: BusinessHours | None = None


def promised_hours(rules: DeadlineRules, region: str | None, tags: Iterable[str]) -> float:
    """Hours promised to this customer: by region, capped by the shortest rule of any tag they carry."""
    home = rules.unknown_region_is_home
    if region:
        home = any(home_region in region for home_region in rules.home_regions)
    hours = rules.home_hours if home else rules.other_hours
    tag_hours = rules.tag_hours or {}
    for tag in tags:
        if tag in tag_hours:
            hours = min(hours, tag_hours[tag])
    return hours


def due_time(rules: DeadlineRules, opened_at: datetime, region: str | None, tags: Iterable[str]) -> datetime:
    """When the promise falls due: so many hours after opening, in working time unless the clock is calendar."""
    return later_by(rules, opened_at, timedelta(hours=promised_hours(rules, region, tags)))


def later_by(rules: DeadlineRules, start: datetime, duration: timedelta) -> datetime:
    """`duration` after `start` on the deadlines' clock."""
    return start + duration if rules.hours is None else add_working(start, duration, rules.hours)


def clock_time_between(rules: DeadlineRules, start: datetime, end: datetime) -> timedelta:
    """How much of the deadlines' clock ran from `start` to `end`."""
    return max(end - start, timedelta(0)) if rules.hours is None else working_between(start, end, rules.hours)


def priority_for(tags: Iterable[str], priority_tags: Iterable[str]) -> Priority:
    """Key customers (承认最好的顾客需要专属的待遇) get high priority; everyone else normal."""
    return Priority.HIGH if set(tags) & set(priority_tags) else Priority.NORMAL


PRIORITY_ORDER = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


@dataclass(frozen=True)
class ComplaintPolicy:
    """Everything the complaint rules read from config.toml, in one value the desk carries."""

    lexicon: tuple[str, ...] = ("投诉", "差评", "complaint")
    causes: Mapping[str, Sequence[str]] | None = None
    deadlines: DeadlineRules = DeadlineRules()
    priority_tags: tuple[str, ...] = ("VIP", "key_account")
    vip_customers: frozenset[str] = frozenset()
    reopen_after_resolution: bool = True
    reopen_days: int = 7
    low_score: int = 2
    repeat_count: int = 2
    repeat_days: int = 90
    new_customer_days: int = 30
    remind_before: timedelta = timedelta(hours=1)
    ack_every: timedelta = timedelta(minutes=30)

    def cause_of(self, text: str) -> str:
        return classify_cause(text, self.causes or {})

    def known_cause(self, cause: str) -> bool:
        return cause in CAUSE_LABELS or cause in (self.causes or {})
