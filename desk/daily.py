"""The managers' daily summary: yesterday's report figures (the per-staff table too), open and overdue
tickets, customers at risk; sent to each manager's private chat at `reports.daily_at`.

Sent once a day whatever the number of worker processes or restarts: the sending is recorded as an
export of "daily_summary" for that day, and a day already recorded is not sent again.
"""

from __future__ import annotations

from crm_store import Session, tickets
from crm_store.exports import export_recorded, record_export
from desk.assignment import tell_managers
from desk.context import DeskContext
from desk.messages import Envelope
from reports.metrics import collect_report
from reports.periods import parse_period
from reports.summary import summary_text

WHAT = "daily_summary"


def daily_summary(session: Session, ctx: DeskContext) -> list[Envelope]:
    """Yesterday's summary for every manager, unless it went out already."""
    if not ctx.assignment.manager_ids:
        return []
    now = ctx.clock()
    period = parse_period("yesterday", ctx.zone, today=now.astimezone(ctx.zone).date())
    if export_recorded(session, what=WHAT, filters=period.label):
        return []

    def entry_title(entry_id: str) -> str | None:
        entry = ctx.kb.get(entry_id)
        return entry.question if entry else None

    data = collect_report(session, period, now=now, entry_title=entry_title)
    open_count, late = tickets.open_counts(session, now)
    text = (
        f"🗓 每日汇总 Daily summary\n{summary_text(data, ctx.zone)}\n"
        f"进行中的工单 Open tickets now: {open_count} · 已超时 past their deadline: {late}"
    )
    record_export(session, at=now, what=WHAT, channel="telegram", filters=period.label, rows=data.customer_messages)
    return tell_managers(session, ctx, [text])
