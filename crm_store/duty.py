"""Who is on duty, and the round-robin that hands new tickets to them, as rows (several workers share it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from crm_store.db import Session
from crm_store.models import ACTIVE_STATUSES, StaffMember, Ticket, TicketStatus
from crm_store.tickets import Who, record_event


def seen_staff(session: Session, user_id: int, name: str, username: str | None) -> StaffMember:
    """The staff member's row, created or refreshed with the name and username Telegram shows now."""
    member = session.get(StaffMember, user_id)
    if member is None:
        member = StaffMember(user_id=user_id, name=name[:128], username=username, on_duty=False)
        session.add(member)
        session.flush()
    elif (member.name, member.username) != (name[:128], username):
        member.name, member.username = name[:128], username
    return member


def set_on_duty(session: Session, member: StaffMember, on_duty: bool, at: datetime) -> bool:
    """True when it changed."""
    if member.on_duty == on_duty:
        return False
    member.on_duty, member.duty_changed_at = on_duty, at
    return True


def on_duty(session: Session) -> Sequence[StaffMember]:
    stmt = select(StaffMember).where(StaffMember.on_duty.is_(True)).order_by(StaffMember.duty_changed_at)
    return session.scalars(stmt).all()


def find_staff(session: Session, *, user_id: int | None = None, username: str | None = None) -> StaffMember | None:
    if user_id is not None:
        return session.get(StaffMember, user_id)
    stmt = select(StaffMember).where(func.lower(StaffMember.username) == (username or "").lower())
    return session.scalars(stmt.limit(1)).first()


def open_load(session: Session) -> dict[int, int]:
    """Active tickets per assignee."""
    stmt = (
        select(Ticket.assignee_user_id, func.count())
        .where(Ticket.status.in_(ACTIVE_STATUSES), Ticket.assignee_user_id.is_not(None))
        .group_by(Ticket.assignee_user_id)
    )
    return {int(user_id): count for user_id, count in session.execute(stmt)}


def next_on_duty(session: Session, cap: int, at: datetime) -> StaffMember | None:
    """The on-duty member under `cap` who was given a ticket longest ago (never first); marked as given now.

    The row is locked (PostgreSQL) until the transaction ends, so two workers do not both pick them.
    """
    load = (
        select(Ticket.assignee_user_id.label("user_id"), func.count().label("open"))
        .where(Ticket.status.in_(ACTIVE_STATUSES), Ticket.assignee_user_id.is_not(None))
        .group_by(Ticket.assignee_user_id)
        .subquery()
    )
    stmt = (
        select(StaffMember)
        .outerjoin(load, load.c.user_id == StaffMember.user_id)
        .where(StaffMember.on_duty.is_(True), func.coalesce(load.c.open, 0) < cap)
        .order_by(StaffMember.last_assigned_at.asc().nulls_first(), StaffMember.user_id)
        .limit(1)
        .with_for_update(of=StaffMember, skip_locked=True)
    )
    member = session.scalars(stmt).first()
    if member is not None:
        # Strictly later than anyone's, so members given tickets in the same instant still take turns.
        latest = session.scalar(select(func.max(StaffMember.last_assigned_at)))
        member.last_assigned_at = at if latest is None or latest < at else latest + timedelta(microseconds=1)
    return member


def waiting_tickets(session: Session) -> Sequence[Ticket]:
    """Active tickets nobody holds, oldest deadline first (the caller puts key customers first)."""
    stmt = (
        select(Ticket)
        .where(Ticket.status.in_([TicketStatus.OPEN, TicketStatus.REOPENED]), Ticket.assignee_user_id.is_(None))
        .order_by(Ticket.due_at, Ticket.id)
    )
    return session.scalars(stmt).all()


def tickets_of(session: Session, user_id: int) -> Sequence[Ticket]:
    """The member's active tickets, by deadline."""
    stmt = (
        select(Ticket)
        .where(Ticket.status.in_(ACTIVE_STATUSES), Ticket.assignee_user_id == user_id)
        .order_by(Ticket.due_at, Ticket.id)
    )
    return session.scalars(stmt).all()


def hand_to(session: Session, ticket: Ticket, member: StaffMember, who: Who, at: datetime) -> None:
    """Give the ticket to `member` (whoever held it), with the audit event."""
    old = ticket.assignee_name or (str(ticket.assignee_user_id) if ticket.assignee_user_id else None)
    ticket.assignee_user_id, ticket.assignee_name = member.user_id, member.name
    ticket.status = TicketStatus.ASSIGNED
    record_event(session, ticket, "assigned", who, at, old=old, new=member.name)
