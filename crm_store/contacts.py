"""Recording and reading contacts (moments of truth)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import Executable, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from crm_store.models import Actor, Contact, ContentKind, Customer, Direction


def update_already_recorded(session: Session, update_id: int) -> bool:
    """True when this Telegram update was recorded before (a redelivery)."""
    return session.scalar(select(Contact.id).where(Contact.update_id == update_id)) is not None


def last_told_at(session: Session, ticket_id: int) -> datetime | None:
    """When the customer was last written to about this ticket (by the bot or by staff)."""
    stmt = select(func.max(Contact.at)).where(Contact.ticket_id == ticket_id, Contact.direction == Direction.OUTBOUND)
    return session.scalar(stmt)


def record_contact(
    session: Session,
    customer: Customer,
    *,
    at: datetime,
    direction: Direction,
    actor: Actor,
    kind: ContentKind,
    text: str,
    intent: str | None = None,
    entry_id: str | None = None,
    score: float | None = None,
    tier: str | None = None,
    wait_ms: int | None = None,
    handling_ms: int | None = None,
    reply_to_id: int | None = None,
    update_id: int | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
    staff_user_id: int | None = None,
    staff_name: str | None = None,
    ticket_id: int | None = None,
    delivery_error: str | None = None,
) -> int | None:
    """Insert one contact and return its id; None when its `update_id` was recorded before.

    One INSERT … RETURNING per contact (this is the hottest write): no ORM unit of work, and a
    redelivered update is skipped by the database itself (ON CONFLICT DO NOTHING), with no race.
    """
    values = {
        "customer_id": customer.id,
        "at": at,
        "channel": customer.channel,
        "direction": direction,
        "actor": actor,
        "kind": kind,
        "text": text,
        "intent": intent,
        "entry_id": entry_id,
        "score": score,
        "tier": tier,
        "wait_ms": wait_ms,
        "handling_ms": handling_ms,
        "reply_to_id": reply_to_id,
        "update_id": update_id,
        "chat_id": chat_id,
        "message_id": message_id,
        "staff_user_id": staff_user_id,
        "staff_name": staff_name,
        "ticket_id": ticket_id,
        "delivery_error": delivery_error,
    }
    connection = session.connection()
    statement = _insert_statement(connection.dialect.name, skip_known_updates=update_id is not None)
    return connection.execute(statement, values).scalar_one_or_none()


@cache
def _insert_statement(dialect: str, *, skip_known_updates: bool) -> Executable:
    # Built once and executed with parameters. The dialects' on_conflict_do_nothing() constructs
    # carry no cache key, so SQLAlchemy would compile them on every call (a quarter of the write
    # cost); a typed text() statement is compiled once. Both SQLite (3.35+) and PostgreSQL speak it.
    table = Contact.__table__
    if not skip_known_updates:
        return insert(table).returning(table.c.id)
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"no duplicate-safe insert for {dialect}")
    columns = [column for column in table.columns if column.name != "id"]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(column.name for column in columns)}) "
        f"VALUES ({', '.join(':' + column.name for column in columns)}) "
        "ON CONFLICT (update_id) DO NOTHING RETURNING id"
    )
    return text(sql).bindparams(*(bindparam(column.name, type_=column.type) for column in columns))


def recent_contacts(session: Session, customer_id: int, limit: int = 10) -> Sequence[Contact]:
    """The customer's last contacts, oldest first."""
    stmt = select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.id.desc()).limit(limit)
    return list(reversed(session.scalars(stmt).all()))


def count_contacts(session: Session, customer_id: int) -> int:
    return session.scalar(select(func.count(Contact.id)).where(Contact.customer_id == customer_id)) or 0


def link_to_ticket(session: Session, contact_id: int, ticket_id: int) -> None:
    """The contact opened (or belongs to) this ticket."""
    session.execute(update(Contact).where(Contact.id == contact_id).values(ticket_id=ticket_id))
