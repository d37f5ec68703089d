"""The per-staff table of a report: tickets handled, how fast, deadlines met, how satisfied customers were."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from crm_store.db import Session
from crm_store.staff_figures import HandledTicket, handled_tickets
from reports.complaints import Durations, deadline_state
from reports.labels import duration_text
from reports.periods import Period


@dataclass(frozen=True)
class StaffFigures:
    user_id: int
    name: str
    handled: int
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    deadlines: dict[str, int] = field(default_factory=dict)
    mean_satisfaction: float | None = None
    rated: int = 0


def staff_figures(session: Session, period: Period, now: datetime) -> list[StaffFigures]:
    """One row per staff member who held tickets opened in the period, most tickets first."""
    by_person: dict[int, list[HandledTicket]] = defaultdict(list)
    for ticket in handled_tickets(session, period.start, period.end):
        by_person[ticket.assignee_user_id].append(ticket)
    rows = [_figures(user_id, tickets, now) for user_id, tickets in by_person.items()]
    return sorted(rows, key=lambda row: (-row.handled, row.name))


def _figures(user_id: int, tickets: list[HandledTicket], now: datetime) -> StaffFigures:
    deadlines = {"met": 0, "missed": 0, "pending": 0}
    first, resolved, scores = [], [], []
    for t in tickets:
        deadlines[deadline_state(t.due_at, t.resolved_at, t.breached_at, now)] += 1
        if t.first_response_at is not None:
            first.append((t.first_response_at - t.opened_at).total_seconds() / 60)
        if t.resolved_at is not None:
            resolved.append((t.resolved_at - t.opened_at).total_seconds() / 60)
        if t.satisfaction is not None:
            scores.append(t.satisfaction)
    name = next((t.assignee_name for t in reversed(tickets) if t.assignee_name), None) or str(user_id)
    return StaffFigures(
        user_id=user_id,
        name=name,
        handled=len(tickets),
        first_response=Durations.of(first),
        resolution=Durations.of(resolved),
        deadlines=deadlines,
        mean_satisfaction=sum(scores) / len(scores) if scores else None,
        rated=len(scores),
    )


def staff_table(rows: list[StaffFigures]) -> list[str]:
    """The table's lines for the summary (plain text, one line per person)."""
    if not rows:
        return []
    lines = ["👥 按工作人员 By staff member（工单数 · 首次响应 中位/P90 · 解决 中位/P90 · 按时/超时 · 满意度）:"]
    for row in rows:
        score = f"{row.mean_satisfaction:.1f}/5 (n={row.rated})" if row.mean_satisfaction is not None else "—"
        lines.append(
            f"  {row.name}: {row.handled} · {_pair(row.first_response)} · {_pair(row.resolution)}"
            f" · {row.deadlines['met']}/{row.deadlines['missed']} · {score}"
        )
    return lines


def _pair(durations: Durations) -> str:
    if durations.median is None or durations.p90 is None:
        return "—"
    return f"{duration_text(durations.median)}/{duration_text(durations.p90)}"
