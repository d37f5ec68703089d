"""The channel port: what the desk needs from Telegram, the console or any other way to reach people.

The desk decides and records; a channel only carries messages. Each method returns the channel's id
for what it posted, or raises one of the errors below, which say what the sender should do next.
"""

from __future__ import annotations

from typing import Protocol

from desk.messages import Reply


class DeliveryError(Exception):
    """The message did not go out. `final` says whether trying again could help."""

    final = False

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TryLater(DeliveryError):
    """Flood control, a 5xx, a timeout, a dropped connection: the same message may pass later."""


class Refused(DeliveryError):
    """The channel refused this message for good (a 400: bad request, message to copy is gone…)."""

    final = True


class Unreachable(Refused):
    """The person blocked the bot or deleted their account (a 403)."""


class TopicGone(Refused):
    """The customer's staff topic was deleted: open a new one and post again."""


# Telegram deletes at most this many messages in one call.
DELETE_AT_ONCE = 100


class Channel(Protocol):
    """One way to reach customers and, when `has_staff`, a staff group with a topic per customer."""

    @property
    def has_staff(self) -> bool:
        """True when people can take chats over (a staff group exists)."""
        ...

    async def send_reply(self, chat_id: int, reply: Reply) -> int:
        """A reply (text and buttons) to a customer's chat."""
        ...

    async def copy_to_customer(self, chat_id: int, from_chat_id: int, message_id: int, reply_to: int | None) -> int:
        """A staff member's message, copied to the customer (optionally as a reply to one of theirs)."""
        ...

    async def edit_for_customer(self, chat_id: int, message_id: int, text: str, *, caption: bool) -> int:
        """A staff member corrected a message the customer has: its text (or a media message's caption)."""
        ...

    async def open_topic(self, name: str) -> int:
        """A new staff topic; its thread id."""
        ...

    async def post_to_staff(self, thread_id: int | None, text: str) -> int:
        """Plain text into a staff topic (None: the group's general topic)."""
        ...

    async def copy_to_staff(self, thread_id: int, from_chat_id: int, message_id: int) -> int:
        """A customer's message, copied into their staff topic."""
        ...

    async def send_document(self, chat_id: int, filename: str, content: bytes, caption: str) -> int:
        """A file for a customer (their own copy of their data)."""
        ...

    async def delete_topic(self, thread_id: int) -> None:
        """Delete a staff topic with every message in it."""
        ...

    async def rename_topic(self, thread_id: int, name: str) -> None:
        """Rename a staff topic (where it may not be deleted)."""
        ...

    async def delete_staff_messages(self, message_ids: list[int]) -> None:
        """Delete up to DELETE_AT_ONCE messages in the staff group; ones already gone are skipped."""
        ...
