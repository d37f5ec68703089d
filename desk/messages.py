"""What flows through the desk: an inbound message from any channel, and the outcome to send back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crm_store import ContentKind


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
class Reply:
    """One message to send. `text` is plain text: the channel escapes it for its markup."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    contact_id: int | None = None


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    # True when the update had been handled before: nothing is recorded or sent again.
    duplicate: bool = False
