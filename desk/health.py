"""What the operator's health and metrics endpoints read from the desk (plain functions over one session)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crm_store import Session, outbox, tickets


@dataclass(frozen=True)
class StoreFigures:
    open_tickets: int
    breached_tickets: int
    outbox_pending: dict[str, int]


def store_figures(session: Session, now: datetime) -> StoreFigures:
    open_count, late = tickets.open_counts(session, now)
    return StoreFigures(open_count, late, outbox.pending_by_lane(session))
