"""Complaints and the customers behind them: causes, statuses, deadlines, handling times, scores, risk."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median, quantiles

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.causes import CAUSE_LABELS
from crm_store.models import ACTIVE_STATUSES, Customer, CustomerTag, Tag, Ticket
from reports.periods import Period, within

TOP = 10
AT_RISK_TAG = "at_risk"


@dataclass(frozen=True)
class Durations:
    """Minutes from opening a ticket to an event, over the tickets that reached it."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, minutes: list[float]) -> Durations:
        if not minutes:
            return cls()
        p90 = quantiles(minutes, n=10, method="inclusive")[-1] if len(minutes) > 1 else minutes[0]
        return cls(len(minutes), median(minutes), p90)


@dataclass(frozen=True)
class TicketFigures:
    """Complaints opened in a period: what caused them, where they stand, and how fast they were handled."""

    by_cause: list[tuple[str, int]] = field(default_factory=list)
    by_status: list[tuple[str, int]] = field(default_factory=list)
    deadlines: dict[str, int] = field(default_factory=lambda: {"met": 0, "missed": 0, "pending": 0})
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)


@dataclass(frozen=True)
class AtRisk:
    name: str
    username: str | None
    last_contact_at: datetime
    open_tickets: int


def ticket_figures(session: Session, period: Period, now: datetime) -> TicketFigures:
    """Complaints opened in the period: causes, statuses, deadlines, response and resolution times."""
    stmt = select(
        Ticket.cause, Ticket.status, Ticket.opened_at, Ticket.due_at, Ticket.first_response_at,
        Ticket.resolved_at, Ticket.breached_at,
    ).where(within(period, Ticket.opened_at))  # fmt: skip
    causes: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    deadlines = {"met": 0, "missed": 0, "pending": 0}
    first: list[float] = []
    resolved: list[float] = []
    for cause, status, opened, due, responded, done, breached in session.execute(stmt):
        causes[cause or "other"] += 1
        statuses[status] += 1
        deadlines[deadline_state(due, done, breached, now)] += 1
        if responded is not None:
            first.append((responded - opened).total_seconds() / 60)
        if done is not None:
            resolved.append((done - opened).total_seconds() / 60)
    return TicketFigures(
        by_cause=[(cause_label(cause), n) for cause, n in causes.most_common()],
        by_status=statuses.most_common(),
        deadlines=deadlines,
        first_response=Durations.of(first),
        resolution=Durations.of(resolved),
    )


def deadline_state(due: datetime, resolved: datetime | None, breached: datetime | None, now: datetime) -> str:
    """met, missed or pending: a flagged breach counts as missed even if the ticket was solved later."""
    if breached is not None:
        return "missed"
    if resolved is not None:
        return "met" if resolved <= due else "missed"
    return "pending" if due >= now else "missed"


def satisfaction_scores(session: Session, period: Period) -> dict[int, int]:
    """How many tickets got each score 1–5, by when they were rated."""
    rated_at = func.coalesce(Ticket.rated_at, Ticket.resolved_at, Ticket.opened_at)
    stmt = (
        select(Ticket.satisfaction, func.count())
        .where(Ticket.satisfaction.is_not(None), within(period, rated_at))
        .group_by(Ticket.satisfaction)
    )
    scores = dict.fromkeys(range(1, 6), 0)
    for score, count in session.execute(stmt):
        if score in scores:
            scores[score] += count
    return scores


def customers_at_risk(session: Session, limit: int = TOP) -> tuple[list[AtRisk], int]:
    """Customers tagged at risk now, most recently heard from first, with their open tickets."""
    tagged = (
        select(CustomerTag.customer_id)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(Tag.name == AT_RISK_TAG)
        .scalar_subquery()
    )
    open_tickets = (
        select(func.count())
        .where(Ticket.customer_id == Customer.id, Ticket.status.in_(ACTIVE_STATUSES))
        .scalar_subquery()
    )
    # Erased customers asked to be forgotten: they are neither listed nor counted.
    at_risk = (Customer.id.in_(tagged), Customer.erased_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Customer).where(*at_risk)) or 0
    stmt = (
        select(Customer.display_name, Customer.username, Customer.last_contact_at, open_tickets)
        .where(*at_risk)
        .order_by(Customer.last_contact_at.desc())
        .limit(limit)
    )
    return [AtRisk(*row) for row in session.execute(stmt)], total


def cause_label(cause: str) -> str:
    """交货不准时 late delivery: the taxonomy's Chinese name with the English one; unknown causes as stored."""
    labels = CAUSE_LABELS.get(cause)
    return f"{labels['zh']} {labels['en']}" if labels else cause
