"""The store's side of privacy: what erasure rewrites or deletes, what retention blanks, what a copy reads.

Rows stay where reports count them (contacts, tickets, events, exports); what they say about a person goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from crm_store.models import (
    ACTIVE_STATUSES,
    Actor,
    CandidatePhrasing,
    Contact,
    CustomerTag,
    DeadLetter,
    Direction,
    Erasure,
    Export,
    OutboxMessage,
    OutboxState,
    RelayedMessage,
    StaffTopic,
    Tag,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from crm_store.tickets import Who, record_event

# Ticket events whose old/new values are the desk's own words (states, causes, times, staff names);
# every other action (a region, a tag name…) may say something about the customer.
NEUTRAL_EVENT_VALUES = (
    "opened", "assigned", "released", "resolved", "closed", "reopened", "cause", "priority", "due",
    "first_response", "rated", "reminded", "breached",
)  # fmt: skip
# The reason an erased customer's open tickets were closed (no more deadline reminders about them).
ERASED_REASON = "erased"
MY_DATA = "mydata"
# Outbox posts that always go to the customer's topic (a notice goes there only when one exists).
TOPIC_KINDS = ("topic", "copy")


def pending_erasure(session: Session, customer_id: int) -> Erasure | None:
    stmt = select(Erasure).where(Erasure.customer_id == customer_id, Erasure.confirmed_at.is_(None))
    return session.scalars(stmt).first()


def inbound_texts(session: Session, customer_id: int) -> list[str]:
    stmt = select(Contact.text).where(Contact.customer_id == customer_id, Contact.direction == Direction.INBOUND)
    return [text for text in session.scalars(stmt) if text]


def anonymise_contacts(session: Session, customer_id: int, marker: str) -> int:
    """Every contact keeps its row (reports count it) but loses its words and the chat it came from."""
    stmt = update(Contact).where(Contact.customer_id == customer_id).values(text=marker, chat_id=None)
    return session.execute(stmt).rowcount or 0


def anonymise_tickets(session: Session, customer_id: int, marker: str, who: Who, now: datetime) -> int:
    """Summaries, resolutions, regions and event values go; open tickets close for reason "erased"."""
    ticket_ids = select(Ticket.id).where(Ticket.customer_id == customer_id).scalar_subquery()
    session.execute(
        update(Ticket).where(Ticket.customer_id == customer_id).values(summary=marker, resolution=None, region=None)
    )
    events = update(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids))
    session.execute(events.where(TicketEvent.detail.is_not(None)).values(detail=marker))
    personal = events.where(TicketEvent.action.not_in(NEUTRAL_EVENT_VALUES))
    session.execute(personal.values(old_value=None, new_value=None))
    # What the customer did themselves (opened, rated…) was recorded under their name.
    session.execute(events.where(TicketEvent.actor == Actor.CUSTOMER).values(actor_name=None, actor_user_id=None))
    open_tickets = session.scalars(
        select(Ticket).where(Ticket.customer_id == customer_id, Ticket.status.in_(ACTIVE_STATUSES))
    ).all()
    for ticket in open_tickets:
        old = ticket.status
        ticket.status, ticket.closed_at = TicketStatus.CLOSED, now
        ticket.resolved_at = ticket.resolved_at or now
        record_event(session, ticket, "closed", who, now, old=old, new=ticket.status, detail=ERASED_REASON)
    return len(open_tickets)


def drop_tags(session: Session, customer_id: int) -> None:
    """The customer's tags, and tags nobody else wears any more (a staff-made tag may name the person)."""
    worn = select(CustomerTag.tag_id).where(CustomerTag.customer_id == customer_id)
    tag_ids = list(session.scalars(worn))
    session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer_id))
    if tag_ids:
        still_worn = select(CustomerTag.tag_id).where(CustomerTag.tag_id.in_(tag_ids))
        session.execute(delete(Tag).where(Tag.id.in_(tag_ids), Tag.id.not_in(still_worn)))


def forget_phrasings(session: Session, normalized: Iterable[str]) -> int:
    """Candidate phrasings in the customer's words: gone when only they used them, one count less otherwise."""
    keys = sorted({key[:512] for key in normalized if key})
    if not keys:
        return 0
    theirs = session.scalars(select(CandidatePhrasing).where(CandidatePhrasing.normalized.in_(keys))).all()
    for candidate in theirs:
        if candidate.count <= 1:
            session.delete(candidate)
        else:
            candidate.count -= 1
    return len(theirs)


def scrub_exports(session: Session, names: Iterable[str], subject_user_id: int | None, marker: str) -> int:
    """Export filters naming the customer (`customer=@wumin`) lose the name; their own copies lose their id."""
    patterns = [re.compile(rf"customer={re.escape(name)}(?=\s|$)") for name in sorted(set(names), key=len)[::-1]]
    scrubbed = 0
    for export in session.scalars(select(Export).where(Export.filters.like("%customer=%"))):
        filters = export.filters
        for pattern in patterns:
            filters = pattern.sub(f"customer={marker}", filters)
        if filters != export.filters:
            export.filters, scrubbed = filters, scrubbed + 1
    if subject_user_id is not None:
        stmt = update(Export).where(Export.what == MY_DATA, Export.user_id == subject_user_id)
        scrubbed += session.execute(stmt.values(user_id=None, user_name=None)).rowcount or 0
    return scrubbed


@dataclass
class StaffTraces:
    """Where the customer appears in the staff group: their topic, and posts about them by message id."""

    thread_id: int | None = None
    # Posts inside the topic (gone with it; deleted one by one only when the topic cannot be deleted).
    in_topic: list[int] = field(default_factory=list)
    # Posts that may sit outside it (alerts go to General when there is no topic).
    elsewhere: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.thread_id is not None or bool(self.in_topic or self.elsewhere)


def staff_traces(session: Session, customer_id: int) -> StaffTraces:
    """What erasure must remove from the staff group, read before the relay map and the outbox forget it."""
    topic = session.scalars(select(StaffTopic).where(StaffTopic.customer_id == customer_id)).one_or_none()
    traces = StaffTraces(thread_id=topic.thread_id if topic else None)
    if topic is not None and topic.card_message_id is not None:
        traces.in_topic.append(topic.card_message_id)
    relayed = select(RelayedMessage.staff_message_id).where(RelayedMessage.customer_id == customer_id)
    traces.in_topic += list(session.scalars(relayed))
    posted = select(OutboxMessage.kind, OutboxMessage.message_id).where(
        OutboxMessage.customer_id == customer_id,
        OutboxMessage.lane == "staff",
        OutboxMessage.message_id.is_not(None),
    )
    for kind, message_id in session.execute(posted):
        in_topic = topic is not None and kind in TOPIC_KINDS
        (traces.in_topic if in_topic else traces.elsewhere).append(message_id)
    traces.in_topic = sorted(set(traces.in_topic))
    traces.elsewhere = sorted(set(traces.elsewhere) - set(traces.in_topic))
    return traces


def forget_staff_side(session: Session, customer_id: int) -> None:
    """The topic link and the relay map: a later message from the same person starts afresh."""
    session.execute(delete(StaffTopic).where(StaffTopic.customer_id == customer_id))
    session.execute(delete(RelayedMessage).where(RelayedMessage.customer_id == customer_id))


def remember_card(session: Session, customer_id: int, message_id: int) -> None:
    stmt = update(StaffTopic).where(StaffTopic.customer_id == customer_id, StaffTopic.card_message_id.is_(None))
    session.execute(stmt.values(card_message_id=message_id))


# -- retention -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blanked:
    contacts: int = 0
    tickets: int = 0
    events: int = 0
    dead_letters: int = 0
    outbox: int = 0


def blank_texts_before(session: Session, cutoff: datetime) -> Blanked:
    """Words older than `cutoff` go; the rows stay, so reports still count them.

    A ticket's texts go once it is settled and its last change is older than the cutoff: staff still
    working on a complaint need its summary, however old.
    """
    contacts = session.execute(update(Contact).where(Contact.at < cutoff, Contact.text != "").values(text="")).rowcount
    settled = func.coalesce(Ticket.closed_at, Ticket.resolved_at, Ticket.opened_at)
    tickets = session.execute(
        update(Ticket)
        .where(Ticket.status.not_in(ACTIVE_STATUSES), settled < cutoff)
        .where(or_(Ticket.summary != "", Ticket.resolution.is_not(None)))
        .values(summary="", resolution=None)
    ).rowcount
    events = session.execute(
        update(TicketEvent).where(TicketEvent.at < cutoff, TicketEvent.detail.is_not(None)).values(detail=None)
    ).rowcount
    dead = session.execute(delete(DeadLetter).where(DeadLetter.received_at < cutoff)).rowcount
    done = OutboxMessage.state != OutboxState.PENDING
    sent = session.execute(delete(OutboxMessage).where(OutboxMessage.created_at < cutoff, done)).rowcount
    return Blanked(contacts or 0, tickets or 0, events or 0, dead or 0, sent or 0)


# -- a customer's own copy -------------------------------------------------------------------------


def last_copy_at(session: Session, customer_id: int) -> datetime | None:
    """When the customer last received their own copy (recorded in `exports`)."""
    stmt = select(func.max(Export.at)).where(Export.what == MY_DATA, Export.filters == f"customer={customer_id}")
    return session.scalar(stmt)


def contacts_of(session: Session, customer_id: int) -> Sequence[Contact]:
    return session.scalars(
        select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.at, Contact.id)
    ).all()


def tickets_of(session: Session, customer_id: int) -> Sequence[Ticket]:
    return session.scalars(select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.id)).all()
