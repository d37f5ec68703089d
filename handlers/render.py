"""Sending the desk's replies through the Bot API: HTML parse mode, every piece of text escaped."""

from __future__ import annotations

import html
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import TelegramError

from desk.messages import Outcome, Reply

log = logging.getLogger(__name__)
MAX_MESSAGE = 4096


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    rows = [[InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in reply.buttons]
    return InlineKeyboardMarkup(rows)


async def send_outcome(bot: Bot, chat_id: int, outcome: Outcome) -> None:
    """Send each reply in order; a failed send is logged, the contact is already recorded."""
    for reply in outcome.replies:
        try:
            await bot.send_message(
                chat_id,
                html.escape(reply.text)[:MAX_MESSAGE],
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(reply),
            )
        except TelegramError as exc:
            log.warning("reply to chat %s not delivered: %s", chat_id, exc.__class__.__name__)
            return
