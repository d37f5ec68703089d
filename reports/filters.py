"""What a manager asks for: `/logs 7d intent=no_answer actor=bot format=xlsx`, parsed once for Telegram and CLI."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from reports.periods import PERIOD_HELP, Period, PeriodError, parse_period

FORMATS = ("csv", "xlsx")
ACTORS = ("customer", "bot", "staff", "system")
DIRECTIONS = ("in", "out")
FILTER_KEYS = ("customer", "tag", "intent", "ticket", "actor", "direction", "format")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

LOGS_USAGE = (
    "用法 Usage: /logs [period] [key=value ...]\n"
    f"period: {PERIOD_HELP} (default 7d)\n"
    "filters: customer=<id|@username|name> tag=<VIP,at_risk…> intent=<no_answer,handoff…> "
    "ticket=<T000042> actor=<customer|bot|staff|system> direction=<in|out> format=<csv|xlsx>\n"
    "e.g. /logs 7d intent=no_answer actor=bot format=xlsx"
)
REPORT_USAGE = f"用法 Usage: /report [period]\nperiod: {PERIOD_HELP} (default 7d)"


class UsageError(ValueError):
    """The manager's request could not be read; str() is a message to show them, usage included."""


@dataclass(frozen=True)
class LogFilter:
    """Which contacts to pull; empty tuples mean 'any'."""

    period: Period
    customer: str | None = None
    tags: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    ticket: str | None = None
    actors: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    format: str = "csv"

    def describe(self) -> str:
        """The filter as the manager would type it (also what the export audit stores)."""
        parts = [self.period.label]
        for key, value in (
            ("customer", self.customer),
            ("tag", ",".join(self.tags)),
            ("intent", ",".join(self.intents)),
            ("ticket", self.ticket),
            ("actor", ",".join(self.actors)),
            ("direction", ",".join(self.directions)),
        ):
            if value:
                parts.append(f"{key}={value}")
        return " ".join(parts)


def parse_log_args(args: Sequence[str], zone: ZoneInfo, *, today: date | None = None) -> LogFilter:
    """Turn command words into a LogFilter; anything unknown raises UsageError with the usage text."""
    period_text: str | None = None
    values: dict[str, str] = {}
    for word in args:
        key, sep, value = word.partition("=")
        if not sep:
            if period_text is not None:
                raise UsageError(f"两个时间段 Two periods given: {period_text!r} and {word!r}\n{LOGS_USAGE}")
            period_text = word
            continue
        key, value = key.strip().lower(), value.strip()
        if key not in FILTER_KEYS:
            raise UsageError(f"未知条件 Unknown filter {key!r}\n{LOGS_USAGE}")
        if not value:
            raise UsageError(f"条件 {key} 没有值 Filter {key!r} has no value\n{LOGS_USAGE}")
        values[key] = value
    try:
        period = parse_period(period_text, zone, today=today)
    except PeriodError as exc:
        raise UsageError(f"时间段有误 {exc}\n{LOGS_USAGE}") from None
    return LogFilter(
        period=period,
        customer=values.get("customer"),
        tags=_listed(values.get("tag"), "tag", lowercase=False),
        intents=_checked(values.get("intent"), "intent", None),
        ticket=values.get("ticket"),
        actors=_checked(values.get("actor"), "actor", ACTORS),
        directions=_checked(values.get("direction"), "direction", DIRECTIONS),
        format=_checked(values.get("format", "csv"), "format", FORMATS)[0],
    )


def parse_report_args(args: Sequence[str], zone: ZoneInfo, *, today: date | None = None) -> Period:
    """`/report [period]`: one optional period, nothing else."""
    if len(args) > 1:
        raise UsageError(f"只能给一个时间段 Only one period, got {' '.join(args)!r}\n{REPORT_USAGE}")
    try:
        return parse_period(args[0] if args else None, zone, today=today)
    except PeriodError as exc:
        raise UsageError(f"时间段有误 {exc}\n{REPORT_USAGE}") from None


def _listed(value: str | None, key: str, *, lowercase: bool = True) -> tuple[str, ...]:
    if value is None:
        return ()
    items = tuple(item.strip().lower() if lowercase else item.strip() for item in value.split(","))
    if not all(items):
        raise UsageError(f"条件 {key} 有空值 Filter {key!r} has an empty item\n{LOGS_USAGE}")
    return items


def _checked(value: str | None, key: str, allowed: Sequence[str] | None) -> tuple[str, ...]:
    items = _listed(value, key)
    for item in items:
        # Intents are open-ended (new ones get added), so only their shape is checked.
        ok = item in allowed if allowed is not None else bool(_NAME.match(item))
        if not ok:
            choices = f" (one of {', '.join(allowed)})" if allowed else ""
            raise UsageError(f"条件 {key}={item!r} 无效 Invalid value{choices}\n{LOGS_USAGE}")
    return items
