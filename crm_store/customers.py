"""Finding and updating customers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.models import Customer


def find_customer(session: Session, channel: str, external_id: str) -> Customer | None:
    stmt = select(Customer).where(Customer.channel == channel, Customer.external_id == external_id)
    return session.scalars(stmt).one_or_none()


def find_or_create_customer(
    session: Session,
    *,
    channel: str,
    external_id: str,
    display_name: str,
    username: str | None,
    language: str | None,
    now: datetime,
) -> Customer:
    """The customer for this channel identity, created on first contact; profile refreshed on each contact."""
    customer = find_customer(session, channel, external_id)
    if customer is None:
        customer = Customer(
            channel=channel,
            external_id=external_id,
            display_name=display_name[:128],
            username=username,
            language=language,
            first_contact_at=now,
            last_contact_at=now,
        )
        try:
            # A savepoint, so losing a race with another worker does not spoil the whole unit of work.
            with session.begin_nested():
                session.add(customer)
        except IntegrityError:
            customer = find_customer(session, channel, external_id)
            if customer is None:
                raise
        return customer
    if customer.erased_at is None:
        customer.display_name = display_name[:128] or customer.display_name
        customer.username = username or customer.username
        customer.language = language or customer.language
    customer.last_contact_at = max(customer.last_contact_at, now)
    return customer
