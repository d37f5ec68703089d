"""Business hours and holidays as plain functions: is the desk staffed now, when is it back, and what a
promise of so many working hours means on the calendar.

Hours are spans of minutes in the business's time zone, per weekday (Monday first); a holiday has none,
an extra working day (调休) has `extra_day` spans. Times are stored in UTC and compared in UTC.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# (start, end) minutes after local midnight, end exclusive; 24:00 is 1440.
Span = tuple[int, int]
DAY_MINUTES = 24 * 60
ALL_DAY: tuple[Span, ...] = ((0, DAY_MINUTES),)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Far enough for any real calendar (a year of holidays), near enough to stop on a closed-for-ever one.
SEARCH_DAYS = 400
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class HoursError(ValueError):
    """Hours that cannot be read ("9-18", "18:00-09:00"); the message says which."""


def parse_spans(text: str) -> tuple[Span, ...]:
    """ "09:00-12:00, 13:00-18:00" → ((540, 720), (780, 1080)); "" (closed) → ()."""
    spans = []
    for part in (piece for piece in text.split(",") if piece.strip()):
        match = _SPAN.match(part)
        if match is None:
            raise HoursError(f"{part.strip()!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= DAY_MINUTES or end > DAY_MINUTES or start >= end:
            raise HoursError(f"{part.strip()!r}: the end must come after the start, within one day (24:00 at most)")
        spans.append((start, end))
    spans.sort()
    if any(a[1] > b[0] for a, b in itertools.pairwise(spans)):
        raise HoursError(f"{text!r}: spans overlap")
    return tuple(spans)


@dataclass(frozen=True)
class BusinessHours:
    """When people work: spans per weekday (Monday first), holidays off, extra working days on."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    week: tuple[tuple[Span, ...], ...] = (ALL_DAY,) * 7
    holidays: frozenset[date] = frozenset()
    extra_days: frozenset[date] = frozenset()
    extra_day: tuple[Span, ...] = ((540, 1080),)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise HoursError("hours need seven weekdays, Monday first")
        if not any(self.week) and not (self.extra_days and self.extra_day):
            raise HoursError("the desk is never open: give at least one weekday some hours")

    @property
    def always_open(self) -> bool:
        return all(day == ALL_DAY for day in self.week) and not self.holidays

    def spans_on(self, day: date) -> tuple[Span, ...]:
        if day in self.extra_days:
            return self.extra_day
        if day in self.holidays:
            return ()
        return self.week[day.weekday()]


def _periods(moment: datetime, hours: BusinessHours) -> Iterator[tuple[datetime, datetime]]:
    """Working periods (UTC) that end after `moment`, in order; adjacent ones (23:00-24:00, 00:00-…) merged."""
    day = moment.astimezone(hours.zone).date() - timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    for offset in range(SEARCH_DAYS):
        current = day + timedelta(days=offset)
        for start, end in hours.spans_on(current):
            begin, finish = _at(current, start, hours.zone), _at(current, end, hours.zone)
            if finish <= moment:
                continue
            if pending is not None and pending[1] >= begin:
                pending = (pending[0], finish)
                continue
            if pending is not None:
                yield pending
            pending = (begin, finish)
    if pending is not None:
        yield pending


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    # Aware arithmetic in one zone is wall-clock arithmetic: on a DST day 09:00 stays 09:00 on the clock.
    return (datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minutes)).astimezone(UTC)


def is_open(moment: datetime, hours: BusinessHours) -> bool:
    """Whether people are at work at `moment`."""
    if hours.always_open:
        return True
    first = next(_periods(moment, hours), None)
    return first is not None and first[0] <= moment < first[1]


def next_open(moment: datetime, hours: BusinessHours) -> datetime:
    """When people are next at work: `moment` itself when they are now."""
    if hours.always_open:
        return moment
    for begin, _ in _periods(moment, hours):
        return max(begin, moment)
    raise HoursError(f"the desk does not open within {SEARCH_DAYS} days")


def add_working(start: datetime, duration: timedelta, hours: BusinessHours) -> datetime:
    """The moment `duration` of working time after `start`: a promise of 12 working hours on the calendar."""
    left = duration
    if left <= timedelta(0) or hours.always_open:
        return start + max(left, timedelta(0))
    for begin, end in _periods(start, hours):
        begin = max(begin, start)
        if end - begin >= left:
            return begin + left
        left -= end - begin
    raise HoursError(f"the desk does not open within {SEARCH_DAYS} days")


def working_between(start: datetime, end: datetime, hours: BusinessHours) -> timedelta:
    """Working time from `start` to `end` (zero when `end` is not later)."""
    total = timedelta(0)
    if end <= start:
        return total
    if hours.always_open:
        return end - start
    for begin, finish in _periods(start, hours):
        if begin >= end:
            break
        total += min(finish, end) - max(begin, start)
    return total


def week_from(days: Sequence[str]) -> tuple[tuple[Span, ...], ...]:
    """Seven weekday strings (Monday first) read as spans."""
    return tuple(parse_spans(text) for text in days)
