"""The web console inside Telegram: a Mini App button beside the message box of staff and managers.

Telegram sets menu buttons per private chat (not in groups), so each configured staff member and manager
gets it in their own chat with the bot. The page it opens signs them in with the Mini App's initData.
"""

from __future__ import annotations

import logging

from telegram import MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers.context import settings_of

log = logging.getLogger(__name__)
BUTTON_TEXT = "工作台"


async def offer_console(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Once after start-up: staff and managers find 工作台 in their chat with the bot; it opens the console."""
    settings = settings_of(context)
    url = settings.web.console_url
    if url is None:
        return
    button = MenuButtonWebApp(BUTTON_TEXT, WebAppInfo(url))
    for user_id in sorted(set(settings.roles.staff) | set(settings.roles.managers)):
        try:
            await context.bot.set_chat_menu_button(chat_id=user_id, menu_button=button)
        except TelegramError as exc:  # e.g. they never opened a chat with the bot yet
            log.info("console button not set for user %s (%s)", user_id, exc.__class__.__name__)
