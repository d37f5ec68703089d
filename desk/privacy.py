"""The right to be forgotten: a customer asks (/forget), a manager confirms (/erase), the erasure is recorded.

Contacts stay as rows (reports keep their counts) but lose every word and name; tags and notes go.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_store.dead_letters import erase_dead_letters
from crm_store.models import Contact, Customer, CustomerTag, Erasure, Ticket, TicketEvent
from crm_store.outbox import drop_for_customer
from crm_store.tickets import Who
from desk import outbox
from desk.messages import Envelope, Reply
from desk.texts import say

ERASED = "[已删除 erased]"
TELEGRAM = "telegram"


def request_erasure(session: Session, customer: Customer, now: datetime) -> Erasure:
    """Record the request once; asking again while one is pending changes nothing."""
    pending = session.scalars(
        select(Erasure).where(Erasure.customer_id == customer.id, Erasure.confirmed_at.is_(None))
    ).first()
    if pending is not None:
        return pending
    erasure = Erasure(customer_id=customer.id, requested_at=now, contacts_anonymised=0)
    session.add(erasure)
    session.flush()
    return erasure


def erase_customer(session: Session, customer_id: int, who: Who, now: datetime) -> Erasure | None:
    """Anonymise everything the customer said and everything said about them; None if unknown customer."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    contacts = session.execute(update(Contact).where(Contact.customer_id == customer_id).values(text=ERASED)).rowcount
    ticket_ids = select(Ticket.id).where(Ticket.customer_id == customer_id).scalar_subquery()
    session.execute(update(Ticket).where(Ticket.customer_id == customer_id).values(summary=ERASED, resolution=None))
    session.execute(
        update(TicketEvent)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.detail.is_not(None))
        .values(detail=ERASED)
    )
    session.execute(CustomerTag.__table__.delete().where(CustomerTag.customer_id == customer_id))
    # Unreadable updates are keyed by the Telegram user id only: other channels never produce them.
    if customer.channel == TELEGRAM:
        erase_dead_letters(session, customer.external_id)
    # Queued messages carry their words (copies for staff, replies quoting them): nothing more goes out.
    drop_for_customer(session, customer_id)
    customer.display_name, customer.username, customer.region, customer.language = "", None, None, None
    customer.written_language = None
    customer.erased_at = now
    erasure = session.scalars(
        select(Erasure).where(Erasure.customer_id == customer_id, Erasure.confirmed_at.is_(None))
    ).first()
    if erasure is None:  # a manager may erase without a request (e.g. asked by phone)
        erasure = Erasure(customer_id=customer_id, requested_at=now)
        session.add(erasure)
    erasure.confirmed_at, erasure.confirmed_by_user_id, erasure.confirmed_by_name = now, who.user_id, who.name
    erasure.contacts_anonymised = contacts
    session.flush()
    return erasure


def erase_and_tell(session: Session, customer_id: int, who: Who, now: datetime) -> tuple[int, list[Envelope]] | None:
    """Erase the customer and queue the one message they still get: that it is done. None if unknown."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    language = "en" if (customer.language or "zh").startswith("en") else "zh"
    erasure = erase_customer(session, customer_id, who, now)
    assert erasure is not None
    told = []
    if customer.channel == TELEGRAM:
        done = [Reply(say("erased", language))]
        told = outbox.queue_replies(session, customer.id, int(customer.external_id), done, now)
    return erasure.contacts_anonymised, told
