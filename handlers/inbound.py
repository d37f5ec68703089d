"""Turning Telegram updates into the desk's channel-neutral `Inbound`."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import CallbackQuery, Message, Update, User

from desk.messages import ContentKind, CustomerRef, Inbound
from desk.names import person_name
from desk.text_input import clean_text

CHANNEL = "telegram"
# The store's column sizes (customers.display_name, username, language).
NAME_CHARS, HANDLE_CHARS, LANGUAGE_CHARS = 128, 64, 16
MEDIA_KINDS = (
    ("photo", ContentKind.PHOTO),
    ("sticker", ContentKind.STICKER),
    ("voice", ContentKind.VOICE),
    ("audio", ContentKind.VOICE),
    ("video_note", ContentKind.VIDEO),
    ("video", ContentKind.VIDEO),
    ("animation", ContentKind.VIDEO),
    ("document", ContentKind.DOCUMENT),
    ("location", ContentKind.LOCATION),
    ("contact", ContentKind.CONTACT),
)


# Telegram's callback data is at most 64 bytes; anything longer was not ours.
ACTION_CHARS = 64


def customer_ref(user: User, chat_id: int) -> CustomerRef:
    """Who wrote. Names are the sender's own text: cleaned like messages (a NUL or a lone surrogate in a
    first name would otherwise fail the customer's insert, and with it the message) and cut to fit the store."""
    return CustomerRef(
        channel=CHANNEL,
        external_id=str(user.id),
        display_name=clean_text(person_name(user.first_name, user.last_name), NAME_CHARS),
        username=clean_text(user.username, HANDLE_CHARS) or None,
        language=clean_text(user.language_code, LANGUAGE_CHARS) or None,
        chat_id=chat_id,
    )


def inbound_from_message(update: Update, message: Message, *, edited: bool = False) -> Inbound | None:
    """The customer's message as an Inbound, or None when it has no human sender."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    return Inbound(
        customer=customer_ref(user, message.chat_id),
        kind=ContentKind.EDITED if edited else message_kind(message),
        text=message.text or message.caption or "",
        sent_at=_aware(message.edit_date if edited and message.edit_date else message.date),
        update_id=update.update_id,
        message_id=message.message_id,
    )


def inbound_from_callback(update: Update, query: CallbackQuery) -> Inbound:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    return Inbound(
        customer=customer_ref(query.from_user, chat_id),
        kind=ContentKind.BUTTON,
        text="",
        sent_at=datetime.now(UTC),
        update_id=update.update_id,
        # Forged or garbled data (a lone surrogate cannot be stored) is cleaned like any text, then judged stale.
        action=clean_text(query.data, ACTION_CHARS) if query.data else None,
    )


def message_kind(message: Message) -> ContentKind:
    if message.text is not None:
        is_command = bool(message.entities) and message.entities[0].type == "bot_command"
        return ContentKind.COMMAND if is_command and message.entities[0].offset == 0 else ContentKind.TEXT
    for attribute, kind in MEDIA_KINDS:
        if getattr(message, attribute, None):
            return kind
    return ContentKind.OTHER


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
