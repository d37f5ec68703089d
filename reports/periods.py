"""Report periods: "7d", "today", "2026-11", "2026-11-01..2026-11-15", read in the desk's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_

DEFAULT_PERIOD = "7d"
# Ten years is already more than any store holds; larger numbers are typos.
MAX_DAYS = 3660
_RELATIVE = re.compile(r"^(\d{1,4})([dw])$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Managers write periods in Chinese too: 30天, 11月, 2026年11月, 2026/11/05.
_CN_DAYS = re.compile(r"^(\d{1,4})天$")
_CN_MONTH = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月$")
PERIOD_HELP = (
    "7d, 4w, today, yesterday, 2026-11, 2026-11-05, 2026-11-01..2026-11-15, "
    "今天, 昨天, 本周, 上周, 本月, 上个月, 30天, 11月, 2026年11月, 2026/11/05"
)


class PeriodError(ValueError):
    """The period could not be read; the message says what is accepted."""


@dataclass(frozen=True)
class Period:
    """Whole local days [first, last], as UTC instants [start, end) for queries."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone).astimezone(UTC)

    @property
    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


def parse_period(text: str | None, zone: ZoneInfo, *, today: date | None = None) -> Period:
    """Read a period; relative ones ("7d" = the last 7 days including today) count back from `today`."""
    raw = (text or DEFAULT_PERIOD).strip().lower().replace("/", "-")
    today = today or datetime.now(zone).date()
    raw = _CN_DAYS.sub(r"\1d", raw)
    if named := _named(raw, today):
        return Period(*named, zone)
    if match := _CN_MONTH.match(raw):
        year = int(match[1]) if match[1] else today.year
        if not match[1] and int(match[2]) > today.month:
            year -= 1  # "11月" in February means the November just gone, not one still to come
        raw = f"{year:04d}-{int(match[2]):02d}"
    if raw in ("today", "今天"):
        return Period(today, today, zone)
    if raw in ("yesterday", "昨天"):
        return Period(today - timedelta(days=1), today - timedelta(days=1), zone)
    if match := _RELATIVE.match(raw):
        days = int(match[1]) * (7 if match[2] == "w" else 1)
        if not 1 <= days <= MAX_DAYS:
            raise PeriodError(f"period {text!r}: between 1d and {MAX_DAYS}d")
        return Period(today - timedelta(days=days - 1), today, zone)
    if match := _MONTH.match(raw):
        first = _date(f"{match[1]}-{match[2]}-01", text)
        next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return Period(first, next_month - timedelta(days=1), zone)
    if ".." in raw:
        left, _, right = raw.partition("..")
        first, last = _date(left.strip(), text), _date(right.strip(), text)
        if last < first:
            raise PeriodError(f"period {text!r}: the end comes before the start")
        if (last - first).days >= MAX_DAYS:
            raise PeriodError(f"period {text!r}: longer than {MAX_DAYS} days")
        return Period(first, last, zone)
    if _DAY.match(raw):
        day = _date(raw, text)
        return Period(day, day, zone)
    raise PeriodError(f"unknown period {text!r}; use one of: {PERIOD_HELP}")


def _named(raw: str, today: date) -> tuple[date, date] | None:
    """本周/上周 (weeks start on Monday) and 本月/上个月, up to today for the current ones."""
    monday = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    if raw == "本周":
        return monday, today
    if raw == "上周":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if raw == "本月":
        return month_start, today
    if raw in ("上个月", "上月"):
        last = month_start - timedelta(days=1)
        return last.replace(day=1), last
    return None


def _date(value: str, original: str | None) -> date:
    if not _DAY.match(value):
        raise PeriodError(f"period {original!r}: dates are written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"period {original!r}: {value} is not a calendar date") from None


def within(period: Period, column):  # type: ignore[no-untyped-def]
    """SQL condition: `column` falls inside the period."""
    return and_(column >= period.start, column < period.end)
