"""Periods and filters as managers type them: what is accepted, and what is refused with a clear message."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from reports.filters import LOGS_USAGE, UsageError, parse_log_args, parse_report_args
from reports.periods import PeriodError, parse_period

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 15)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("7d", date(2026, 11, 9), date(2026, 11, 15)),
        ("今天", date(2026, 11, 15), date(2026, 11, 15)),
        ("昨天", date(2026, 11, 14), date(2026, 11, 14)),
        ("本周", date(2026, 11, 9), date(2026, 11, 15)),
        ("上周", date(2026, 11, 2), date(2026, 11, 8)),
        ("本月", date(2026, 11, 1), date(2026, 11, 15)),
        ("上个月", date(2026, 10, 1), date(2026, 10, 31)),
        ("上月", date(2026, 10, 1), date(2026, 10, 31)),
        ("11月", date(2026, 11, 1), date(2026, 11, 30)),
        ("12月", date(2025, 12, 1), date(2025, 12, 31)),
        ("2026年2月", date(2026, 2, 1), date(2026, 2, 28)),
        ("30天", date(2026, 10, 17), date(2026, 11, 15)),
        ("2026/11/05", date(2026, 11, 5), date(2026, 11, 5)),
        ("1d", TODAY, TODAY),
        ("2w", date(2026, 11, 2), date(2026, 11, 15)),
        ("today", TODAY, TODAY),
        ("昨天", date(2026, 11, 14), date(2026, 11, 14)),
        ("2026-11-05", date(2026, 11, 5), date(2026, 11, 5)),
        ("2026-11-01..2026-11-15", date(2026, 11, 1), date(2026, 11, 15)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        (None, date(2026, 11, 9), date(2026, 11, 15)),
    ],
)
def test_periods_cover_whole_local_days(text: str | None, first: date, last: date) -> None:
    """Each way of writing a period gives the expected first and last day, both included."""
    period = parse_period(text, ZONE, today=TODAY)
    assert (period.first, period.last) == (first, last)
    assert len(period.days()) == (last - first).days + 1


def test_period_bounds_are_local_midnights_in_utc() -> None:
    """A Shanghai day starts at 16:00 UTC the day before; the end is exclusive."""
    period = parse_period("2026-11-01..2026-11-02", ZONE)
    assert period.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 2, 16, tzinfo=UTC)
    assert period.label == "2026-11-01..2026-11-02"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("last-week", "unknown period"),
        ("0d", "between 1d"),
        ("99999d", "unknown period"),
        ("2026-11-15..2026-11-01", "end comes before the start"),
        ("2026-02-30", "not a calendar date"),
        ("2026-11-01..tomorrow", "YYYY-MM-DD"),
        ("2026-13", "not a calendar date"),
    ],
)
def test_bad_periods_say_what_is_wrong(text: str, message: str) -> None:
    """A wrong period raises PeriodError naming the problem, never a traceback from datetime."""
    with pytest.raises(PeriodError, match=message):
        parse_period(text, ZONE, today=TODAY)


def test_log_arguments_become_a_filter() -> None:
    """Period and key=value words in any order; lists with commas; values checked; described back as typed."""
    log_filter = parse_log_args(
        ["intent=no_answer,handoff", "7d", "actor=bot", "format=XLSX", "tag=VIP", "customer=@wang", "ticket=T000042"],
        ZONE,
        today=TODAY,
    )
    assert log_filter.period.first == date(2026, 11, 9)
    assert log_filter.intents == ("no_answer", "handoff") and log_filter.actors == ("bot",)
    assert log_filter.format == "xlsx" and log_filter.tags == ("VIP",) and log_filter.customer == "@wang"
    assert log_filter.describe() == (
        "2026-11-09..2026-11-15 customer=@wang tag=VIP intent=no_answer,handoff ticket=T000042 actor=bot"
    )
    assert parse_log_args([], ZONE, today=TODAY).format == "csv"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["7d", "colour=red"], "Unknown filter 'colour'"),
        (["7d", "30d"], "Two periods"),
        (["actor=robot"], "Invalid value"),
        (["format=pdf"], "Invalid value"),
        (["direction=sideways"], "Invalid value"),
        (["intent=No Answer!"], "Invalid value"),
        (["intent="], "has no value"),
        (["tag=VIP,,new"], "empty item"),
        (["next-month"], "unknown period"),
    ],
)
def test_bad_log_arguments_answer_with_usage(words: list[str], message: str) -> None:
    """Anything the parser does not understand is refused with the reason and the full usage text."""
    with pytest.raises(UsageError, match=message) as error:
        parse_log_args(words, ZONE, today=TODAY)
    assert LOGS_USAGE in str(error.value)


def test_report_takes_one_optional_period() -> None:
    """/report alone is the last 7 days; two words are refused."""
    assert parse_report_args([], ZONE, today=TODAY).first == date(2026, 11, 9)
    assert parse_report_args(["2026-10"], ZONE).last == date(2026, 10, 31)
    with pytest.raises(UsageError, match="Only one period"):
        parse_report_args(["7d", "intent=x"], ZONE)
    with pytest.raises(UsageError, match="unknown period"):
        parse_report_args(["soon"], ZONE)
