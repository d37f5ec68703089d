"""What flows through the desk: an inbound message from any channel, and the outcome to send back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_store import ContentKind
from crm_store.models import Actor
from crm_store.tickets import Who

__all__ = [
    "Button",
    "ContentKind",
    "CustomerRef",
    "Envelope",
    "Escalation",
    "Inbound",
    "Outcome",
    "Reply",
    "Who",
    "staff_member",
]


@dataclass(frozen=True)
class CustomerRef:
    """Who wrote, as the channel knows them."""

    channel: str
    external_id: str
    display_name: str = ""
    username: str | None = None
    language: str | None = None
    chat_id: int | None = None


@dataclass(frozen=True)
class Inbound:
    """One thing a customer did: a message, a command, a button press, a photo…"""

    customer: CustomerRef
    kind: ContentKind
    text: str
    sent_at: datetime
    update_id: int | None = None
    message_id: int | None = None
    # The button's action for ContentKind.BUTTON (see desk.actions).
    action: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (the reply's text is its caption)."""

    filename: str
    content: str


@dataclass(frozen=True)
class Reply:
    """One message to send. `text` is plain text: the channel escapes it for its markup."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    contact_id: int | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Escalation:
    """The chat is with staff: what the channel must copy into the customer's staff topic."""

    customer_id: int
    ticket_id: int
    ticket_number: str
    # Posted in the topic first when a ticket was opened or reopened by this contact.
    header: str | None = None
    # The customer's own message is copied into the topic (not for a button press).
    relay_message: bool = True
    # The inbound contact, so the copy can be linked to it.
    contact_id: int | None = None


@dataclass(frozen=True)
class Envelope:
    """One outbox row as the desk holds it: what to send, to whom, and on behalf of which contact."""

    id: int
    lane: str
    kind: str
    chat_id: int | None
    customer_id: int | None
    contact_id: int | None
    payload: dict[str, Any]
    created_at: datetime

    @property
    def reply(self) -> Reply:
        """The reply a customer-lane `reply` envelope carries."""
        buttons = tuple(tuple(Button(label, action) for label, action in row) for row in self.payload["buttons"])
        return Reply(self.payload["text"], buttons, contact_id=self.contact_id)


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    # True when the update had been handled before: nothing is recorded or sent again.
    duplicate: bool = False
    escalation: Escalation | None = None
    # Alerts for the customer's staff topic (e.g. a low satisfaction score).
    staff_notices: list[str] = field(default_factory=list)
    customer_id: int | None = None
    # The store was down: the contact waits in the spool and will be answered when it is replayed.
    spooled: bool = False
    # What was queued for sending in the decision's transaction (replies, staff posts).
    outbox: list[Envelope] = field(default_factory=list)
    # The decision, for the operator's counts (desk.metrics): its intent and the match tier.
    intent: str | None = None
    tier: str | None = None


def staff_member(user_id: int | None, name: str | None) -> Who:
    """A person of the staff, as the audit trail names them."""
    return Who(Actor.STAFF, user_id, name)
