"""A customer who blocked the bot (or unblocked it): marked, and the open ticket's audit trail says so.

A reply that never arrived is still a moment of truth: managers must see it, and staff must know the
customer cannot be reached through the bot.
"""

from __future__ import annotations

from datetime import datetime

from crm_store import Session, find_customer, tickets
from crm_store.models import Actor
from crm_store.tickets import Who

BLOCKED = "blocked"


def set_blocked(session: Session, channel: str, external_id: str, *, blocked: bool, now: datetime) -> bool:
    """The customer blocked (or unblocked) the bot. True when they have an open ticket staff must know about."""
    customer = find_customer(session, channel, external_id)
    if customer is None:
        return False
    was_blocked = customer.blocked_at is not None
    customer.blocked_at = (customer.blocked_at or now) if blocked else None
    ticket = tickets.active_ticket(session, customer.id)
    if ticket is None or was_blocked == blocked:
        return False
    action = "customer_blocked" if blocked else "customer_unblocked"
    tickets.record_event(session, ticket, action, Who(Actor.CUSTOMER), now)
    return True
