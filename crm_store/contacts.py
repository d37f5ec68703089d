"""Recording and reading contacts (moments of truth)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Actor, Contact, ContentKind, Customer, Direction


def update_already_recorded(session: Session, update_id: int) -> bool:
    """True when this Telegram update was recorded before (a redelivery)."""
    return session.scalar(select(Contact.id).where(Contact.update_id == update_id)) is not None


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
    reply_to: Contact | None = None,
    update_id: int | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
    staff_user_id: int | None = None,
    staff_name: str | None = None,
) -> Contact:
    contact = Contact(
        customer_id=customer.id,
        at=at,
        channel=customer.channel,
        direction=direction,
        actor=actor,
        kind=kind,
        text=text,
        intent=intent,
        entry_id=entry_id,
        score=score,
        tier=tier,
        wait_ms=wait_ms,
        handling_ms=handling_ms,
        reply_to_id=reply_to.id if reply_to else None,
        update_id=update_id,
        chat_id=chat_id,
        message_id=message_id,
        staff_user_id=staff_user_id,
        staff_name=staff_name,
    )
    session.add(contact)
    session.flush()
    return contact


def recent_contacts(session: Session, customer_id: int, limit: int = 10) -> Sequence[Contact]:
    """The customer's last contacts, oldest first."""
    stmt = select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.id.desc()).limit(limit)
    return list(reversed(session.scalars(stmt).all()))


def set_message_id(session: Session, contact_id: int, message_id: int) -> None:
    """Remember which channel message carried an outbound contact (for relays and edits)."""
    contact = session.get(Contact, contact_id)
    if contact is not None:
        contact.message_id = message_id
