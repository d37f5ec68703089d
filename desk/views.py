"""What the web console shows, read in one unit of work and handed over as plain values (no ORM rows).

The queue's order is the desk's one order for open tickets: key customers first (their tags), then
priority, then the promised deadline. The Telegram `/queue` reads the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from crm_store import Session
from crm_store import candidate_phrasings as phrasings_store
from crm_store import views as store
from crm_store.causes import cause_label
from crm_store.models import ACTIVE_STATUSES, Customer
from desk.assignment import queue_rank
from desk.context import DeskContext

# A conversation page shows this many contacts, newest first; an "earlier" link pages back (the log export
# has them all at once).
HISTORY_PAGE = 500
TIMED_EVENTS = ("due", "reminded", "breached")


class QueueItem(NamedTuple):
    """One open ticket in the queue (a tuple: the queue holds a thousand)."""

    ticket_id: int
    number: str
    customer_id: int
    customer_name: str
    status: str
    cause: str
    cause_label: str
    priority: str
    due_at: datetime
    breached: bool
    # Waiting for the customer's answer (the deadline's clock is stopped).
    waiting: bool
    key_customer: bool
    assignee: str | None
    summary: str


def queue(session: Session, ctx: DeskContext) -> list[QueueItem]:
    """Every ticket staff still work on, in the order they should be taken."""
    rows = store.queue_rows(session)
    tags = store.tag_names_of(session, {row.customer_id for row in rows})
    priority_tags = set(ctx.complaints.priority_tags)
    now = ctx.clock()
    items = [
        QueueItem(
            ticket_id=row.id,
            number=row.number or "",
            customer_id=row.customer_id,
            customer_name=_name(row.display_name, row.username, row.external_id),
            status=row.status,
            cause=row.cause,
            cause_label=cause_label(row.cause),
            priority=row.priority,
            due_at=row.due_at,
            # While the ticket waits for the customer its clock stands still: not breached.
            breached=row.waiting_since is None and row.due_at <= now,
            waiting=row.waiting_since is not None,
            key_customer=bool(tags.get(row.customer_id, set()) & priority_tags),
            assignee=row.assignee_name or (str(row.assignee_user_id) if row.assignee_user_id else None),
            summary=row.summary,
        )
        for row in rows
    ]
    items.sort(key=lambda item: queue_rank(item.key_customer, item.priority, item.due_at))
    return items


class HistoryItem(NamedTuple):
    """One line of a conversation: a contact (message in or out) or a ticket event (a note among them).

    A tuple, not a dataclass: a long history has thousands, and a frozen dataclass costs per field."""

    at: datetime
    kind: str  # "customer", "bot", "staff", "system", "note" or "event"
    text: str
    who: str | None = None
    entry_id: str | None = None
    score: float | None = None
    intent: str | None = None
    ticket: str | None = None
    undelivered: str | None = None
    # A ticket event's action (opened, assigned, resolved…) and the values it changed, as the store keeps
    # them (a status, a priority, a tag…): each page says them in its own language.
    action: str | None = None
    change: tuple[str, ...] = ()


@dataclass(frozen=True)
class TicketView:
    id: int
    number: str
    status: str
    cause_label: str
    priority: str
    due_at: datetime
    breached: bool
    assignee: str | None
    active: bool


@dataclass(frozen=True)
class CustomerCard:
    id: int
    name: str
    username: str | None
    channel: str
    external_id: str
    language: str | None
    region: str | None
    first_contact_at: datetime
    last_contact_at: datetime
    blocked: bool
    tags: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Conversation:
    card: CustomerCard
    tickets: tuple[TicketView, ...]
    items: tuple[HistoryItem, ...]
    # The `before` of the page of earlier contacts; None when this page reaches back to the first contact.
    earlier: int | None = None
    # This page is an earlier one (there are newer contacts than it shows).
    paged_back: bool = False


def conversation(
    session: Session, ctx: DeskContext, customer_id: int, *, before: int | None = None, page: int | None = None
) -> Conversation | None:
    """A page of a customer's history, contacts and ticket events in time order: the newest `page` contacts,
    or those older than contact `before`, with the events of the same stretch. None for no such customer."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        return None
    page = page or HISTORY_PAGE
    contacts = store.contact_rows(session, customer.id, page + 1, before)
    more = len(contacts) > page
    contacts = contacts[-page:]
    # The stretch of time this page covers: from its first contact (when there are earlier ones) up to the
    # contact the newer page starts with (when this is an earlier page).
    since = contacts[0].at if more and contacts else None
    until = store.contact_time(session, customer.id, before) if before is not None else None
    numbers = {ticket.id: ticket.number for ticket in store.tickets_of(session, customer.id)}
    # Unpacked by position: the fastest way through thousands of rows (the columns are HistoryItem's order).
    items = [
        HistoryItem(at, actor, text, who, entry_id, score, intent, numbers.get(ticket_id), error)
        for at, actor, text, who, entry_id, score, intent, ticket_id, error, _id in contacts
    ]
    notes = []
    for event, number in store.events_of_customer(session, customer.id):
        who = event.actor_name or event.actor
        if event.action == "note":
            # The card's latest notes come from the whole history, whichever page is shown.
            notes.append(f"{who}: {event.detail}")
        if (since is not None and event.at < since) or (until is not None and event.at >= until):
            continue
        if event.action == "note":
            items.append(HistoryItem(event.at, "note", event.detail or "", who=who, ticket=number))
        else:
            # Deadline events carry ISO times the page shows as the event's own time already.
            values = () if event.action in TIMED_EVENTS else (event.old_value, event.new_value)
            change = tuple(value for value in values if value)
            items.append(
                HistoryItem(event.at, "event", event.detail or "", who=who, ticket=number, action=event.action,
                            change=change)
            )  # fmt: skip
    items.sort(key=lambda item: item.at)
    now = ctx.clock()
    ticket_views = tuple(
        TicketView(
            id=ticket.id,
            number=ticket.number or "",
            status=ticket.status,
            cause_label=cause_label(ticket.cause),
            priority=ticket.priority,
            due_at=ticket.due_at,
            breached=ticket.status in ACTIVE_STATUSES and ticket.due_at <= now,
            assignee=ticket.assignee_name or (str(ticket.assignee_user_id) if ticket.assignee_user_id else None),
            active=ticket.status in ACTIVE_STATUSES,
        )
        for ticket in store.tickets_of(session, customer.id)
    )
    card = CustomerCard(
        id=customer.id,
        name=customer_name(customer),
        username=customer.username,
        channel=customer.channel,
        external_id=customer.external_id,
        language=customer.written_language or customer.language,
        region=customer.region,
        first_contact_at=customer.first_contact_at,
        last_contact_at=customer.last_contact_at,
        blocked=customer.blocked_at is not None,
        tags=tuple(sorted(store.tag_names_of(session, [customer.id]).get(customer.id, set()))),
        notes=tuple(reversed(notes[-3:])),
    )
    earlier = contacts[0].id if more and contacts else None
    return Conversation(card, ticket_views, tuple(items), earlier, before is not None)


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    username: str | None
    external_id: str
    last_contact_at: datetime
    tags: tuple[str, ...]


def customers(session: Session, search: str = "", tag: str = "", limit: int = 100) -> list[CustomerRow]:
    """Customers by last contact, newest first; optionally those whose name or id contains `search`, or
    who wear `tag`."""
    rows = store.recent_customers(session, limit, search.strip()[:64], tag.strip()[:64])
    tags = store.tag_names_of(session, [row.id for row in rows])
    return [
        CustomerRow(row.id, customer_name(row), row.username, row.external_id, row.last_contact_at,
                    tuple(sorted(tags.get(row.id, set()))))
        for row in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class CandidateView:
    id: int
    phrasing: str
    entry_id: str
    entry_question: str | None
    count: int
    source: str


def candidates(session: Session, ctx: DeskContext, limit: int = 50) -> list[CandidateView]:
    """Candidate phrasings waiting for a manager, most used first."""
    return [
        CandidateView(
            c.id, c.phrasing, c.entry_id, (entry.question if (entry := ctx.kb.get(c.entry_id)) else None), c.count,
            c.source,
        )
        for c in phrasings_store.pending_candidates(session, limit)
    ]  # fmt: skip


def customer_name(customer: Customer) -> str:
    return _name(customer.display_name, customer.username, customer.external_id)


def _name(display_name: str, username: str | None, external_id: str) -> str:
    return display_name or (f"@{username}" if username else external_id)
