"""Whole pulls, the same for every channel: stream → write → record the export; collect → draw → record.

Both run in a worker thread with their own session (a big pull must not hold the desk's store thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from crm_store import Store
from crm_store.exports import record_export
from crm_store.types import utcnow
from reports.filters import LogFilter
from reports.logs import COLUMNS, iter_log_rows
from reports.metrics import ReportData, collect_report
from reports.periods import Period
from reports.summary import summary_text
from reports.writers import WRITERS


@dataclass(frozen=True)
class Requester:
    """Who asked, for the export audit: a Telegram user, or the login name on the command line."""

    channel: str
    user_id: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class LogExport:
    path: Path
    rows: int
    format: str
    export_id: int


@dataclass(frozen=True)
class Report:
    data: ReportData
    charts: list[Path]
    summary: str
    export_id: int


def export_logs(
    store: Store, log_filter: LogFilter, *, zone: ZoneInfo, folder: Path, requester: Requester,
    now: datetime | None = None,
) -> LogExport:  # fmt: skip
    """Write the matching contacts to `folder` as CSV or XLSX and record who pulled them."""
    folder.mkdir(parents=True, exist_ok=True)
    period = log_filter.period
    path = folder / f"logs_{period.first}_{period.last}.{log_filter.format}"
    # A plain session, not a transaction: reading only, and a server-side cursor lives inside it.
    with store.sessions() as session:
        header = (f"{COLUMNS[0]} ({zone.key})", *COLUMNS[1:])
        rows = WRITERS[log_filter.format](path, header, iter_log_rows(session, log_filter, zone))
    with store.transaction() as session:
        export_id = record_export(
            session, at=now or utcnow(), what="logs", channel=requester.channel, filters=log_filter.describe(),
            rows=rows, format=log_filter.format, user_id=requester.user_id, user_name=requester.name,
        )  # fmt: skip
    return LogExport(path, rows, log_filter.format, export_id)


def make_report(
    store: Store, period: Period, *, folder: Path, requester: Requester,
    entry_title: Callable[[str], str | None] = lambda _id: None, now: datetime | None = None,
) -> Report:  # fmt: skip
    """Collect the period's numbers, draw the charts into `folder`, write summary.txt, record the export."""
    now = now or utcnow()
    with store.sessions() as session:
        data = collect_report(session, period, now=now, entry_title=entry_title)
    # matplotlib loads only when a report is drawn: the bot starts faster and lighter without it.
    from reports.charts import draw_charts

    charts = draw_charts(data, folder)
    summary = summary_text(data, period.zone)
    (folder / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    with store.transaction() as session:
        export_id = record_export(
            session, at=now, what="report", channel=requester.channel, filters=period.label,
            rows=data.customer_messages, format="png", user_id=requester.user_id, user_name=requester.name,
        )  # fmt: skip
    return Report(data, charts, summary, export_id)
