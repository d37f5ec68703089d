"""The desk's channel port on Telegram: Bot API calls, and Telegram's errors told in the desk's words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from desk.channel import Refused, TopicGone, TryLater, Unreachable
from desk.messages import Reply
from handlers.render import keyboard, send_html

T = TypeVar("T")


class TelegramChannel:
    """Customers in private chats; staff in one forum group (`staff_chat_id`, 0 when there is none)."""

    def __init__(self, bot: Bot, staff_chat_id: int) -> None:
        self.bot = bot
        self.staff_chat_id = staff_chat_id

    @property
    def has_staff(self) -> bool:
        return bool(self.staff_chat_id)

    async def send_reply(self, chat_id: int, reply: Reply) -> int:
        return await _translated(lambda: send_html(self.bot, chat_id, reply.text, markup=keyboard(reply)))

    async def copy_to_customer(self, chat_id: int, from_chat_id: int, message_id: int, reply_to: int | None) -> int:
        async def copy() -> int:
            copied = await self.bot.copy_message(
                chat_id, from_chat_id, message_id, reply_to_message_id=reply_to, allow_sending_without_reply=True
            )
            return copied.message_id

        return await _translated(copy)

    async def edit_for_customer(self, chat_id: int, message_id: int, text: str, *, caption: bool) -> int:
        # Plain text, as staff typed it: no parse mode, so nothing in it is read as markup.
        async def edit() -> int:
            if caption:
                await self.bot.edit_message_caption(chat_id, message_id, caption=text, parse_mode=None)
            else:
                await self.bot.edit_message_text(text, chat_id, message_id, parse_mode=None)
            return message_id

        return await _translated(edit)

    async def open_topic(self, name: str) -> int:
        async def create() -> int:
            topic = await self.bot.create_forum_topic(self.staff_chat_id, name)
            return topic.message_thread_id

        return await _translated(create)

    async def post_to_staff(self, thread_id: int | None, text: str) -> int:
        return await _translated(lambda: send_html(self.bot, self.staff_chat_id, text, thread_id=thread_id))

    async def copy_to_staff(self, thread_id: int, from_chat_id: int, message_id: int) -> int:
        async def copy() -> int:
            copied = await self.bot.copy_message(
                self.staff_chat_id, from_chat_id, message_id, message_thread_id=thread_id
            )
            return copied.message_id

        return await _translated(copy)

    async def send_document(self, chat_id: int, filename: str, content: bytes, caption: str) -> int:
        async def send() -> int:
            sent = await self.bot.send_document(chat_id, InputFile(content, filename=filename), caption=caption)
            return sent.message_id

        return await _translated(send)

    async def delete_topic(self, thread_id: int) -> None:
        await _translated(lambda: self.bot.delete_forum_topic(self.staff_chat_id, thread_id))

    async def rename_topic(self, thread_id: int, name: str) -> None:
        await _translated(lambda: self.bot.edit_forum_topic(self.staff_chat_id, thread_id, name=name))

    async def delete_staff_messages(self, message_ids: list[int]) -> None:
        await _translated(lambda: self.bot.delete_messages(self.staff_chat_id, message_ids))


async def _translated(call: Callable[[], Awaitable[T]]) -> T:
    """Telegram's errors as the desk's: what to retry, what is final. Reasons name the error, not its text."""
    try:
        return await call()
    except RetryAfter as exc:
        wait = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
        raise TryLater("RetryAfter", float(wait)) from exc
    except Forbidden as exc:
        raise Unreachable("blocked") from exc
    except BadRequest as exc:
        if "thread not found" in str(exc).lower():
            raise TopicGone("TopicGone") from exc
        raise Refused(f"BadRequest: {exc.message}"[:200]) from exc
    except NetworkError as exc:  # timeouts, 5xx, dropped connections
        raise TryLater(exc.__class__.__name__) from exc
    except TelegramError as exc:
        raise TryLater(exc.__class__.__name__) from exc
