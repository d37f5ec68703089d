"""Tickets: one function per transition, each writing its event to the audit trail.

open → assigned → resolved → closed, with reopened from resolved or closed. Who acts is always given,
so managers can trust the records (who changed what, when).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_store.models import ACTIVE_STATUSES, Actor, Priority, Ticket, TicketEvent, TicketStatus


class TicketError(Exception):
    """A transition that is not allowed now (e.g. resolving a closed ticket); the message says why."""


@dataclass(frozen=True)
class Who:
    """Who acts on a ticket: the customer, the bot, the system's deadline check, or a staff member."""

    actor: Actor
    user_id: int | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or (str(self.user_id) if self.user_id else self.actor.value)


SYSTEM = Who(Actor.SYSTEM)


def open_ticket(
    session: Session,
    *,
    customer_id: int,
    cause: str,
    priority: Priority,
    region: str | None,
    summary: str,
    opened_at: datetime,
    due_at: datetime,
    who: Who,
) -> Ticket:
    ticket = Ticket(
        customer_id=customer_id,
        status=TicketStatus.OPEN,
        cause=cause,
        priority=priority,
        region=region,
        summary=summary[:2000],
        opened_at=opened_at,
        due_at=due_at,
    )
    session.add(ticket)
    session.flush()
    ticket.number = f"T{ticket.id:06d}"
    record_event(session, ticket, "opened", who, opened_at, new=ticket.status, detail=summary[:500])
    return ticket


def take(session: Session, ticket: Ticket, who: Who, at: datetime) -> bool:
    """Assign the ticket to `who` if nobody holds it. Exactly one of two simultaneous takers wins:
    the guarded UPDATE is atomic in the database, and the loser sees zero rows changed."""
    if ticket.assignee_user_id == who.user_id and ticket.status == TicketStatus.ASSIGNED:
        return True
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.status.in_([TicketStatus.OPEN, TicketStatus.REOPENED]),
            Ticket.assignee_user_id.is_(None),
        )
        .values(status=TicketStatus.ASSIGNED, assignee_user_id=who.user_id, assignee_name=who.name)
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    if result.rowcount != 1:
        return False
    record_event(session, ticket, "assigned", who, at, new=who.label)
    return True


def release(session: Session, ticket: Ticket, who: Who, at: datetime) -> None:
    if ticket.status != TicketStatus.ASSIGNED:
        raise TicketError("ticket is not assigned")
    old = ticket.assignee_name or str(ticket.assignee_user_id)
    ticket.status, ticket.assignee_user_id, ticket.assignee_name = TicketStatus.OPEN, None, None
    record_event(session, ticket, "released", who, at, old=old)


def resolve(session: Session, ticket: Ticket, who: Who, at: datetime, resolution: str) -> None:
    if ticket.status not in ACTIVE_STATUSES:
        raise TicketError(f"ticket is {ticket.status}, not open")
    old = ticket.status
    ticket.status, ticket.resolved_at, ticket.resolution = TicketStatus.RESOLVED, at, resolution or None
    record_event(session, ticket, "resolved", who, at, old=old, new=ticket.status, detail=resolution or None)


def close(session: Session, ticket: Ticket, who: Who, at: datetime) -> None:
    if ticket.status == TicketStatus.CLOSED:
        raise TicketError("ticket is already closed")
    old = ticket.status
    ticket.status, ticket.closed_at = TicketStatus.CLOSED, at
    ticket.resolved_at = ticket.resolved_at or at
    record_event(session, ticket, "closed", who, at, old=old, new=ticket.status)


def reopen(session: Session, ticket: Ticket, who: Who, at: datetime, *, due_at: datetime, reason: str = "") -> None:
    """Back to work with a fresh deadline; the earlier resolution stays in the audit trail."""
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise TicketError(f"ticket is {ticket.status}; only resolved or closed tickets reopen")
    old = ticket.status
    ticket.status = TicketStatus.REOPENED
    ticket.assignee_user_id = ticket.assignee_name = None
    ticket.resolved_at = ticket.closed_at = None
    ticket.satisfaction = ticket.rated_at = None
    ticket.due_at, ticket.reminded_at, ticket.breached_at, ticket.waiting_since = due_at, None, None, None
    record_event(session, ticket, "reopened", who, at, old=old, new=ticket.status, detail=reason or None)


def set_cause(session: Session, ticket: Ticket, cause: str, who: Who, at: datetime) -> None:
    old, ticket.cause = ticket.cause, cause
    record_event(session, ticket, "cause", who, at, old=old, new=cause)


def set_priority(session: Session, ticket: Ticket, priority: Priority, who: Who, at: datetime) -> None:
    old, ticket.priority = ticket.priority, priority
    record_event(session, ticket, "priority", who, at, old=old, new=priority)


def set_due(session: Session, ticket: Ticket, due_at: datetime, who: Who, at: datetime, reason: str) -> None:
    old, ticket.due_at = ticket.due_at, due_at
    ticket.reminded_at = ticket.breached_at = None
    record_event(session, ticket, "due", who, at, old=old.isoformat(), new=due_at.isoformat(), detail=reason)


def wait_for_customer(session: Session, ticket: Ticket, who: Who, at: datetime) -> bool:
    """Stop the deadline's clock until the customer writes; False when it was stopped already."""
    if ticket.status not in ACTIVE_STATUSES:
        raise TicketError(f"ticket is {ticket.status}, not open")
    if ticket.waiting_since is not None:
        return False
    ticket.waiting_since = at
    record_event(session, ticket, "waiting", who, at)
    return True


def resume(session: Session, ticket: Ticket, due_at: datetime, who: Who, at: datetime) -> None:
    """The customer wrote: the clock runs again, the deadline moved by the time it stood still."""
    old, ticket.due_at, ticket.waiting_since = ticket.due_at, due_at, None
    ticket.reminded_at = ticket.breached_at = None
    record_event(session, ticket, "resumed", who, at, old=old.isoformat(), new=due_at.isoformat())


def add_note(session: Session, ticket: Ticket, text: str, who: Who, at: datetime) -> None:
    """An internal note: kept in the audit trail, never sent to the customer."""
    record_event(session, ticket, "note", who, at, detail=text)


def record_first_response(session: Session, ticket: Ticket, who: Who, at: datetime) -> None:
    if ticket.first_response_at is None:
        ticket.first_response_at = at
        record_event(session, ticket, "first_response", who, at)


def rate(session: Session, ticket: Ticket, score: int, who: Who, at: datetime) -> None:
    if not 1 <= score <= 5:
        raise TicketError("score must be 1 to 5")
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise TicketError("only a resolved ticket can be rated")
    old, ticket.satisfaction, ticket.rated_at = ticket.satisfaction, score, at
    record_event(session, ticket, "rated", who, at, old=None if old is None else str(old), new=str(score))


def mark_reminded(session: Session, ticket: Ticket, at: datetime) -> None:
    ticket.reminded_at = at
    record_event(session, ticket, "reminded", SYSTEM, at, new=ticket.due_at.isoformat())


def mark_breached(session: Session, ticket: Ticket, at: datetime) -> None:
    ticket.breached_at = at
    record_event(session, ticket, "breached", SYSTEM, at, new=ticket.due_at.isoformat())


def last_event_at(session: Session, ticket_id: int, action: str) -> datetime | None:
    """When the ticket last had this event (e.g. "reopened"), if ever."""
    stmt = select(func.max(TicketEvent.at)).where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == action)
    return session.scalar(stmt)


def active_ticket(session: Session, customer_id: int) -> Ticket | None:
    """The customer's ticket that staff are working on, if any (the newest)."""
    stmt = (
        select(Ticket)
        .where(Ticket.customer_id == customer_id, Ticket.status.in_(ACTIVE_STATUSES))
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def latest_ticket(session: Session, customer_id: int) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.id.desc()).limit(1)
    return session.scalars(stmt).first()


def count_tickets_since(session: Session, customer_id: int, since: datetime) -> int:
    stmt = select(func.count(Ticket.id)).where(Ticket.customer_id == customer_id, Ticket.opened_at >= since)
    return session.scalar(stmt) or 0


def open_tickets_of(session: Session, customer_id: int) -> Sequence[Ticket]:
    stmt = select(Ticket).where(Ticket.customer_id == customer_id, Ticket.status.in_(ACTIVE_STATUSES))
    return list(session.scalars(stmt.order_by(Ticket.id)))


def active_tickets(session: Session) -> Sequence[Ticket]:
    stmt = select(Ticket).where(Ticket.status.in_(ACTIVE_STATUSES)).order_by(Ticket.due_at)
    return list(session.scalars(stmt))


def due_for_reminder(session: Session, now: datetime, remind_before_at: datetime) -> Sequence[Ticket]:
    """Active tickets due before `remind_before_at` (now + lead time) that were neither reminded nor breached."""
    stmt = select(Ticket).where(
        Ticket.status.in_(ACTIVE_STATUSES),
        Ticket.due_at <= remind_before_at,
        Ticket.due_at > now,
        Ticket.reminded_at.is_(None),
        Ticket.breached_at.is_(None),
        Ticket.waiting_since.is_(None),
    )
    return list(session.scalars(stmt.order_by(Ticket.due_at)))


def newly_breached(session: Session, now: datetime) -> Sequence[Ticket]:
    stmt = select(Ticket).where(
        Ticket.status.in_(ACTIVE_STATUSES),
        Ticket.due_at <= now,
        Ticket.breached_at.is_(None),
        Ticket.waiting_since.is_(None),
    )
    return list(session.scalars(stmt.order_by(Ticket.due_at)))


def events_of(session: Session, ticket_id: int) -> Sequence[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    return list(session.scalars(stmt))


def resolved_late(ticket: Ticket) -> bool:
    end = ticket.resolved_at or ticket.closed_at
    return end is not None and end > ticket.due_at


def record_event(
    session: Session,
    ticket: Ticket,
    action: str,
    who: Who,
    at: datetime,
    *,
    old: str | None = None,
    new: str | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=at,
            action=action,
            actor=who.actor,
            actor_user_id=who.user_id,
            actor_name=who.name,
            old_value=None if old is None else str(old)[:128],
            new_value=None if new is None else str(new)[:128],
            detail=detail,
        )
    )


def recent_notes(session: Session, customer_id: int, limit: int = 3) -> Sequence[TicketEvent]:
    """The customer's latest internal notes, newest first, over all their tickets."""
    stmt = (
        select(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.customer_id == customer_id, TicketEvent.action == "note")
        .order_by(TicketEvent.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def open_counts(session: Session, now: datetime) -> tuple[int, int]:
    """How many tickets are open, and how many of those are past their promised deadline."""
    active = Ticket.status.in_(ACTIVE_STATUSES)
    open_count = session.scalar(select(func.count(Ticket.id)).where(active)) or 0
    late = session.scalar(select(func.count(Ticket.id)).where(active, Ticket.due_at <= now)) or 0
    return open_count, late
