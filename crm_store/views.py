"""Reads for the web console's pages: the queue and a customer's whole history, each in a few queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from crm_store.models import (
    ACTIVE_STATUSES,
    CandidatePhrasing,
    CandidateStatus,
    Contact,
    Customer,
    CustomerTag,
    Tag,
    Ticket,
    TicketEvent,
)

# Plain columns, not whole rows: the queue and a long history read thousands, and ORM objects cost.
QUEUE_COLUMNS = (
    Ticket.id, Ticket.number, Ticket.customer_id, Ticket.status, Ticket.cause, Ticket.priority, Ticket.due_at,
    Ticket.assignee_user_id, Ticket.assignee_name, Ticket.summary, Ticket.waiting_since,
    Customer.display_name, Customer.username, Customer.external_id,
)  # fmt: skip
HISTORY_COLUMNS = (
    Contact.at, Contact.actor, Contact.text, Contact.staff_name, Contact.entry_id, Contact.score, Contact.intent,
    Contact.ticket_id, Contact.delivery_error, Contact.id,
)  # fmt: skip


def queue_rows(session: Session) -> Sequence[Row]:
    """Every ticket staff still work on, with its customer's names (one query, plain rows: the queue has many)."""
    stmt = (
        select(*QUEUE_COLUMNS)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(Ticket.status.in_(ACTIVE_STATUSES))
        .order_by(Ticket.due_at)
    )
    return session.execute(stmt).all()


def tag_names_of(session: Session, customer_ids: Iterable[int]) -> dict[int, set[str]]:
    """Each customer's tag names (customers without tags are absent)."""
    ids = sorted(set(customer_ids))
    names: dict[int, set[str]] = {}
    # Chunks: SQLite allows a limited number of bound parameters per statement.
    for start in range(0, len(ids), 500):
        stmt = (
            select(CustomerTag.customer_id, Tag.name)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.customer_id.in_(ids[start : start + 500]))
        )
        for customer_id, name in session.execute(stmt):
            names.setdefault(customer_id, set()).add(name)
    return names


def contact_rows(session: Session, customer_id: int, limit: int, before: int | None = None) -> Sequence[Row]:
    """The customer's newest `limit` contacts (older than contact `before`, when given) as plain rows, oldest
    first. Keyset paging on the id: a page costs the same however far back it is."""
    stmt = select(*HISTORY_COLUMNS).where(Contact.customer_id == customer_id)
    if before is not None:
        stmt = stmt.where(Contact.id < before)
    stmt = stmt.order_by(Contact.id.desc()).limit(limit)
    return list(reversed(session.execute(stmt).all()))


def contact_time(session: Session, customer_id: int, contact_id: int) -> datetime | None:
    """When the customer's contact `contact_id` was recorded (None: no such contact of theirs)."""
    return session.scalar(select(Contact.at).where(Contact.id == contact_id, Contact.customer_id == customer_id))


def tickets_of(session: Session, customer_id: int) -> Sequence[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.id)))


def events_of_customer(session: Session, customer_id: int) -> Sequence[tuple[TicketEvent, str | None]]:
    """Every event of every ticket of the customer, oldest first, with the ticket's number."""
    stmt = (
        select(TicketEvent, Ticket.number)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.customer_id == customer_id)
        .order_by(TicketEvent.id)
    )
    return [(event, number) for event, number in session.execute(stmt)]


def recent_customers(session: Session, limit: int = 100, search: str = "", tag: str = "") -> Sequence[Customer]:
    """Customers by last contact, newest first; `search` matches name, username or external id; `tag`: wearing it."""
    stmt = select(Customer).where(Customer.erased_at.is_(None))
    if tag:
        tagged = select(CustomerTag.customer_id).join(Tag, Tag.id == CustomerTag.tag_id).where(Tag.name == tag)
        stmt = stmt.where(Customer.id.in_(tagged))
    if search:
        pattern = f"%{search}%"
        stmt = stmt.where(
            Customer.display_name.ilike(pattern)
            | Customer.username.ilike(pattern)
            | Customer.external_id.ilike(pattern)
        )
    return list(session.scalars(stmt.order_by(Customer.last_contact_at.desc()).limit(limit)))


def pending_candidate_count(session: Session) -> int:
    stmt = select(func.count(CandidatePhrasing.id)).where(CandidatePhrasing.status == CandidateStatus.PENDING)
    return session.scalar(stmt) or 0
