"""The CRM store's tables, as typed SQLAlchemy 2 models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from crm_store.types import BigId, UTCDateTime

# Named constraints, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class Actor(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    STAFF = "staff"
    SYSTEM = "system"


class ContentKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    PHOTO = "photo"
    STICKER = "sticker"
    VOICE = "voice"
    DOCUMENT = "document"
    VIDEO = "video"
    LOCATION = "location"
    CONTACT = "contact"
    EDITED = "edited"
    OTHER = "other"


class Customer(Base):
    """One person on one channel (a Telegram user, a console session…)."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    # "zh" or "en": the script of the customer's last typed message. It outranks `language` (the app's
    # setting; many Chinese customers keep their phone in English) when a button or a staff reply has no text.
    written_language: Mapped[str | None] = mapped_column(String(8))
    region: Mapped[str | None] = mapped_column(String(64))
    first_contact_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_contact_at: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    contacts: Mapped[list[Contact]] = relationship(back_populates="customer", lazy="raise")


class Contact(Base):
    """A moment of truth (真实一刻): one message in or out, with who answered, how and how fast."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index(None, "customer_id", "at"),
        Index(None, "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[Direction] = mapped_column(String(8))
    actor: Mapped[Actor] = mapped_column(String(16))
    # The staff member's user id and name when a person answered.
    staff_user_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_name: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[ContentKind] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[str | None] = mapped_column(String(32))
    entry_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    tier: Mapped[str | None] = mapped_column(String(16))
    # Customer-side times (DOMAIN.md slide 49): how long they waited, how long we took to decide.
    wait_ms: Mapped[int | None] = mapped_column(Integer)
    handling_ms: Mapped[int | None] = mapped_column(Integer)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    # Why an outbound message never reached the customer ("blocked", "NetworkError"…); None when it did.
    delivery_error: Mapped[str | None] = mapped_column(String(64))
    # The complaint ticket this contact belongs to, when the chat was escalated.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # Telegram's update_id: unique, so a redelivered update is recorded once.
    update_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)

    customer: Mapped[Customer] = relationship(back_populates="contacts", lazy="raise")


class TicketStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


# Tickets in these states hold the chat: the bot does not answer by itself, staff do.
ACTIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.ASSIGNED, TicketStatus.REOPENED)


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class TagKind(StrEnum):
    VALUE = "value"
    STAGE = "stage"
    LOYALTY = "loyalty"
    TEMPERAMENT = "temperament"
    RISK = "risk"
    CUSTOM = "custom"


class TagSource(StrEnum):
    RULE = "rule"
    STAFF = "staff"
    CONFIG = "config"


class Ticket(Base):
    """A registered complaint or request for a person (登记制度): nothing escalated goes unrecorded."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index(None, "status", "due_at"),
        Index(None, "customer_id", "status"),
        # /mine and the assignment cap count a person's open tickets.
        Index(None, "assignee_user_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Public number quoted to the customer and staff, e.g. T000042.
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[TicketStatus] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(32))
    priority: Mapped[Priority] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    assignee_user_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_name: Mapped[str | None] = mapped_column(String(128))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Deadline bookkeeping for the periodic check; stored, so a restart neither forgets nor repeats.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Staff wait for the customer (/waiting): the deadline's clock stands still until they write.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship(lazy="raise")


class TicketEvent(Base):
    """The audit trail: every change of a ticket, and staff notes, with who and when."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index(None, "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[Actor] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str | None] = mapped_column(String(128))
    old_value: Mapped[str | None] = mapped_column(String(128))
    new_value: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(Text)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[TagKind] = mapped_column(String(16))


class CustomerTag(Base):
    """A tag on a customer, with where it came from (a rule, the config, a staff member) and when."""

    __tablename__ = "customer_tags"
    __table_args__ = (UniqueConstraint("customer_id", "tag_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"))
    source: Mapped[TagSource] = mapped_column(String(16))
    set_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    set_by_name: Mapped[str | None] = mapped_column(String(128))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())

    tag: Mapped[Tag] = relationship(lazy="joined")


class StaffTopic(Base):
    """The staff group's forum topic for one customer (one per customer, ever: unique)."""

    __tablename__ = "staff_topics"
    __table_args__ = (UniqueConstraint("chat_id", "thread_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The customer card posted first: when Telegram will not delete the topic, erasure deletes it by id.
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)


class RelayedMessage(Base):
    """One message copied between a customer's chat and their staff topic, so replies find their target."""

    __tablename__ = "relayed_messages"
    __table_args__ = (
        Index(None, "staff_chat_id", "staff_message_id"),
        Index(None, "customer_chat_id", "customer_message_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    direction: Mapped[Direction] = mapped_column(String(8))
    customer_chat_id: Mapped[int] = mapped_column(BigInteger)
    customer_message_id: Mapped[int] = mapped_column(BigInteger)
    staff_chat_id: Mapped[int] = mapped_column(BigInteger)
    staff_message_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Export(Base):
    """Who pulled which records, when, and how many (customer data is confidential)."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    user_name: Mapped[str | None] = mapped_column(String(128))
    what: Mapped[str] = mapped_column(String(32))
    filters: Mapped[str] = mapped_column(Text, default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    format: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))


class Erasure(Base):
    """A customer's request to be forgotten, and the manager's confirmation (the erasure is recorded)."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    confirmed_by_name: Mapped[str | None] = mapped_column(String(128))
    contacts_anonymised: Mapped[int] = mapped_column(Integer, default=0)
    # Why a manager erased a customer who did not ask (asked by phone, a court order…); None when they asked.
    reason: Mapped[str | None] = mapped_column(Text)


class CandidateStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CandidatePhrasing(Base):
    """A customer's own words for a knowledge entry, waiting for a manager to add them to the entry.

    Born when a customer picks a suggestion or staff link a question to an entry; counted each time.
    """

    __tablename__ = "candidate_phrasings"
    __table_args__ = (UniqueConstraint("entry_id", "normalized"), Index(None, "status", "count"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64))
    phrasing: Mapped[str] = mapped_column(Text)
    # Case, width and spacing folded, so "怎么退货？" and "怎么退货" count as one.
    normalized: Mapped[str] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[CandidateStatus] = mapped_column(String(16), default=CandidateStatus.PENDING)
    decided_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_name: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeadLetter(Base):
    """An update the bot could not read: confirmed to Telegram so it cannot stop the others, kept here.

    The raw JSON may carry a customer's words and name, so it is erased with the customer (`external_id`).
    """

    __tablename__ = "dead_letters"
    __table_args__ = (UniqueConstraint("update_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger)
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    raw: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """One message the bot owes someone, written with the decision that produced it, then sent.

    `lane` is "customer" (chat_id is the customer's chat) or "staff" (the staff group, resolved by the
    channel). The payload may carry a customer's words: it is deleted with the customer on erasure.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "state", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lane: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The contact this message carries (a reply, a staff answer, the customer's message copied to staff).
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    # The update that produced it, so a redelivered update finds what it still owes.
    update_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[OutboxState] = mapped_column(String(8), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Telegram's message id once it accepted the message.
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))


class CannedReply(Base):
    """A canned reply added or changed by a manager (/canned add); text NULL removes one of the content file."""

    __tablename__ = "canned_replies"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffMember(Base):
    """A staff member as the desk last saw them, whether they are on duty, and when they last got a ticket."""

    __tablename__ = "staff_members"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    duty_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
