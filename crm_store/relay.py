"""Staff topics and the relay map: which staff-group message carries which customer message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.models import Customer, Direction, RelayedMessage, StaffTopic


def topic_of(session: Session, customer_id: int) -> StaffTopic | None:
    return session.scalars(select(StaffTopic).where(StaffTopic.customer_id == customer_id)).one_or_none()


def customer_of_topic(session: Session, chat_id: int, thread_id: int) -> Customer | None:
    stmt = (
        select(Customer)
        .join(StaffTopic, StaffTopic.customer_id == Customer.id)
        .where(StaffTopic.chat_id == chat_id, StaffTopic.thread_id == thread_id)
    )
    return session.scalars(stmt).one_or_none()


def link_topic(session: Session, customer_id: int, chat_id: int, thread_id: int, at: datetime) -> StaffTopic:
    """Remember the customer's topic; a topic that was replaced (deleted by someone) is re-linked."""
    session.execute(delete(StaffTopic).where(StaffTopic.customer_id == customer_id))
    topic = StaffTopic(customer_id=customer_id, chat_id=chat_id, thread_id=thread_id, created_at=at)
    try:
        with session.begin_nested():
            session.add(topic)
    except IntegrityError:
        # Another worker linked one first: keep theirs, so the customer still has exactly one topic.
        existing = topic_of(session, customer_id)
        if existing is None:
            raise
        return existing
    return topic


def unlink_topic(session: Session, customer_id: int) -> None:
    session.execute(delete(StaffTopic).where(StaffTopic.customer_id == customer_id))


def record_relay(
    session: Session,
    *,
    customer_id: int,
    direction: Direction,
    customer_chat_id: int,
    customer_message_id: int,
    staff_chat_id: int,
    staff_message_id: int,
    contact_id: int | None,
    at: datetime,
) -> None:
    session.add(
        RelayedMessage(
            customer_id=customer_id,
            direction=direction,
            customer_chat_id=customer_chat_id,
            customer_message_id=customer_message_id,
            staff_chat_id=staff_chat_id,
            staff_message_id=staff_message_id,
            contact_id=contact_id,
            at=at,
        )
    )


def customer_message_for(session: Session, staff_chat_id: int, staff_message_id: int) -> RelayedMessage | None:
    """The customer-side twin of a message in the staff group (to reply to the right one)."""
    stmt = select(RelayedMessage).where(
        RelayedMessage.staff_chat_id == staff_chat_id, RelayedMessage.staff_message_id == staff_message_id
    )
    return session.scalars(stmt.limit(1)).first()
