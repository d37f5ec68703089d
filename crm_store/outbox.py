"""The outbox: what the bot owes, written in the transaction that decided it, marked when Telegram answered."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Update, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from crm_store.models import Contact, OutboxMessage, OutboxState
from crm_store.wakeups import announce_outbox

ERROR_CHARS = 200
# An outbound contact whose message is still on its way: not yet delivered, not yet failed.
PENDING = "pending"


def enqueue(
    session: Session,
    *,
    lane: str,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
    chat_id: int | None = None,
    customer_id: int | None = None,
    contact_id: int | None = None,
    update_id: int | None = None,
) -> int:
    """Add one message to the outbox; its id. The caller's transaction makes it durable with the decision."""
    values = {
        "created_at": at,
        "lane": lane,
        "kind": kind,
        "chat_id": chat_id,
        "customer_id": customer_id,
        "contact_id": contact_id,
        "update_id": update_id,
        "payload": json.dumps(payload, ensure_ascii=False),
        "state": OutboxState.PENDING,
        "attempts": 0,
    }
    table = OutboxMessage.__table__
    outbox_id = session.execute(insert(table).returning(table.c.id), values).scalar_one()
    announce_outbox(session)  # whichever worker sends hears of it when this transaction commits
    return outbox_id


# Ids per IN (...) list: well below SQLite's limit on bound parameters.
CHUNK = 500


def pending(session: Session, *, update_id: int | None = None, skip: Collection[int] = ()) -> Sequence[OutboxMessage]:
    """What is still owed, oldest first (all of it, or what one update produced), but the rows in `skip`.

    The sender asks often and already holds many of the rows: their ids are read first, the rest whole.
    """
    ids = select(OutboxMessage.id).where(OutboxMessage.state == OutboxState.PENDING)
    if update_id is not None:
        ids = ids.where(OutboxMessage.update_id == update_id)
    wanted = sorted(outbox_id for outbox_id in session.scalars(ids) if outbox_id not in skip)
    rows: list[OutboxMessage] = []
    for start in range(0, len(wanted), CHUNK):  # a backlog after a long outage may hold many thousands
        chunk = wanted[start : start + CHUNK]
        stmt = select(OutboxMessage).where(OutboxMessage.id.in_(chunk), OutboxMessage.state == OutboxState.PENDING)
        rows.extend(session.scalars(stmt.order_by(OutboxMessage.id)))
    return rows


def mark_sent(session: Session, outbox_id: int, message_id: int | None, at: datetime, attempts: int) -> bool:
    """Telegram accepted it: the message and the contact it carries say so. False: erased on its way.

    Two compiled UPDATEs with no ORM object loaded: this runs once for every message the bot sends.
    """
    values = {"outbox_id": outbox_id, "message_id": message_id, "at": at, "attempts": attempts}
    row = session.execute(_mark_sent(), values).first()
    if row is None:
        return False
    if row.contact_id is not None and row.lane == "customer":
        session.execute(_contact_delivered(), {"contact_id": row.contact_id, "message_id": message_id})
    return True


@cache
def _mark_sent() -> Update:
    table = OutboxMessage.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("outbox_id"))
        .values(
            state=OutboxState.SENT,
            message_id=bindparam("message_id"),
            sent_at=bindparam("at"),
            attempts=bindparam("attempts"),
            error=None,
        )
        .returning(table.c.contact_id, table.c.lane)
    )


@cache
def _contact_delivered() -> Update:
    table = Contact.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("contact_id"), table.c.delivery_error == PENDING)
        .values(delivery_error=None, message_id=bindparam("message_id"))
    )


def still_pending(session: Session, outbox_ids: Sequence[int]) -> set[int]:
    """Which of these are still owed (an erasure deletes what was queued for its customer)."""
    if not outbox_ids:
        return set()
    stmt = select(OutboxMessage.id).where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.state == OutboxState.PENDING)
    return set(session.scalars(stmt))


def mark_failed(session: Session, outbox_id: int, reason: str, attempts: int) -> OutboxMessage | None:
    """Telegram refused it for good (or the retries ran out); the contact carries the reason."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        return None
    row.state, row.error, row.attempts = OutboxState.FAILED, reason[:ERROR_CHARS], attempts
    if row.contact_id is not None and row.lane == "customer":
        stmt = update(Contact).where(Contact.id == row.contact_id)
        session.execute(stmt.values(delivery_error=reason[:64]))
    return row


def drop_for_customer(session: Session, customer_id: int) -> int:
    """Forget everything queued for or about a customer (erasure); how many messages were dropped."""
    result = session.execute(delete(OutboxMessage).where(OutboxMessage.customer_id == customer_id))
    return result.rowcount or 0


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
    return {str(state): count for state, count in rows}


def pending_by_lane(session: Session) -> dict[str, int]:
    stmt = select(OutboxMessage.lane, func.count()).where(OutboxMessage.state == OutboxState.PENDING)
    return {str(lane): count for lane, count in session.execute(stmt.group_by(OutboxMessage.lane))}
