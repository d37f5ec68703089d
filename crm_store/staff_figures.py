"""The rows behind the per-staff table of a report: tickets by who held them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from crm_store.db import Session
from crm_store.models import Ticket


@dataclass(frozen=True)
class HandledTicket:
    assignee_user_id: int
    assignee_name: str | None
    opened_at: datetime
    due_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    breached_at: datetime | None
    satisfaction: int | None


def handled_tickets(session: Session, start: datetime, end: datetime) -> Sequence[HandledTicket]:
    """Tickets opened in [start, end) that a staff member held (the last one holding it counts)."""
    stmt = (
        select(
            Ticket.assignee_user_id, Ticket.assignee_name, Ticket.opened_at, Ticket.due_at,
            Ticket.first_response_at, Ticket.resolved_at, Ticket.breached_at, Ticket.satisfaction,
        )
        .where(Ticket.opened_at >= start, Ticket.opened_at < end, Ticket.assignee_user_id.is_not(None))
        .order_by(Ticket.id)
    )  # fmt: skip
    return [HandledTicket(*row) for row in session.execute(stmt)]
