"""Sending the desk's replies through the Bot API: HTML parse mode, every piece of text escaped."""

from __future__ import annotations

import html
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode

from desk.messages import Reply

log = logging.getLogger(__name__)
MAX_MESSAGE = 4096


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    rows = [[InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in reply.buttons]
    return InlineKeyboardMarkup(rows)


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
