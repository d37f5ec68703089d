"""Sending the desk's replies through the Bot API: HTML parse mode, every piece of text escaped."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from desk.messages import Outcome, Reply

log = logging.getLogger(__name__)
MAX_MESSAGE = 4096
SEND_ATTEMPTS = 3
RETRY_BACKOFF = 0.5
# Longer flood-control waits are not sat out by one handler: the reply is recorded as undelivered.
MAX_RETRY_WAIT = 10.0
T = TypeVar("T")


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    rows = [[InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in reply.buttons]
    return InlineKeyboardMarkup(rows)


@dataclass(frozen=True)
class Delivery:
    """Which recorded replies did not arrive, and why ("blocked", or the error's name)."""

    undelivered: tuple[int, ...] = ()
    reason: str | None = None


async def send_outcome(bot: Bot, chat_id: int, outcome: Outcome) -> Delivery:
    """Send each reply in order. The contacts are already recorded; a failure is reported back, not raised."""
    for index, reply in enumerate(outcome.replies):
        try:
            await with_retries(lambda reply=reply: send_html(bot, chat_id, reply.text, markup=keyboard(reply)))
        except TelegramError as exc:
            reason = "blocked" if isinstance(exc, Forbidden) else exc.__class__.__name__
            log.warning("reply to chat %s not delivered: %s", chat_id, reason)
            rest = tuple(r.contact_id for r in outcome.replies[index:] if r.contact_id is not None)
            return Delivery(rest, reason)
    return Delivery()


async def with_retries(send: Callable[[], Awaitable[T]], attempts: int = SEND_ATTEMPTS) -> T:
    """Retry what may pass on a second try (timeouts, 5xx, flood control), a bounded number of times.

    A 400 or 403 is final. A timed-out request may have reached Telegram, so a retry can duplicate a
    message; a lost answer is worse for a customer than a repeated one.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except RetryAfter as exc:
            if attempt == attempts:
                raise
            wait = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
            await asyncio.sleep(min(float(wait), MAX_RETRY_WAIT))
        except (BadRequest, Forbidden):
            raise
        except NetworkError:  # includes TimedOut and 5xx answers
            if attempt == attempts:
                raise
            await asyncio.sleep(RETRY_BACKOFF * attempt)
    raise AssertionError("unreachable")


async def send_html(
    bot: Bot, chat_id: int, text: str, *, thread_id: int | None = None, markup: InlineKeyboardMarkup | None = None
) -> int:
    """Send plain text safely as HTML, split into Telegram-sized parts; the last message's id."""
    parts = split_for_telegram(text)
    if not parts:
        log.warning("not sending a blank message to chat %s", chat_id)
    message_id = 0
    for index, part in enumerate(parts):
        sent = await bot.send_message(
            chat_id,
            part,
            parse_mode=ParseMode.HTML,
            message_thread_id=thread_id,
            reply_markup=markup if index == len(parts) - 1 else None,
        )
        message_id = sent.message_id
    return message_id


def split_for_telegram(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Escaped parts of at most `limit` characters, cut between lines where possible, never inside an entity.

    Telegram trims each message and refuses a blank one ("message text is empty"): the text is trimmed,
    blank parts are dropped, and a blank text gives no parts at all.
    """
    parts: list[str] = []
    current = ""
    for line in (text or "").strip().splitlines(keepends=True):
        escaped = html.escape(line)
        while len(escaped) > limit:  # one very long line: cut it by characters, before escaping
            cut = limit
            while len(html.escape(line[:cut])) > limit:
                cut = max(1, cut * 4 // 5)
            head, line = line[:cut], line[cut:]
            parts.extend([current] if current else [])
            current = ""
            parts.append(html.escape(head))
            escaped = html.escape(line)
        if len(current) + len(escaped) > limit:
            parts.append(current)
            current = ""
        current += escaped
    parts.append(current)
    return [part for part in parts if part.strip()]
