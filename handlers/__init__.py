"""Telegram adapters: turn updates into desk calls and outcomes into Bot API calls. No business rules here."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ChatMemberHandler, ContextTypes, MessageHandler, filters

from handlers.context import SETTINGS_KEY
from handlers.customer import on_customer_button, on_customer_message, on_my_chat_member, replay_spooled
from handlers.manager import register_manager_handlers
from handlers.staff import check_deadlines, register_staff_handlers

log = logging.getLogger(__name__)


def register_handlers(application: Application) -> None:
    """All handlers, in the order they must be tried."""
    # Managers' /logs and /report first, in every chat: nobody else's handler may see them, others are refused.
    register_manager_handlers(application)
    private = filters.ChatType.PRIVATE
    settings = application.bot_data[SETTINGS_KEY]
    # The staff group first: its members are not customers.
    register_staff_handlers(application, settings.staff_group.chat_id)
    # Edited messages are answered again (customers edit to correct a question).
    application.add_handler(MessageHandler(private & filters.UpdateType.MESSAGES, on_customer_message))
    application.add_handler(CallbackQueryHandler(on_customer_button))
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_error_handler(on_error)
    if application.job_queue is not None:
        # Deadlines live in the store; the job re-reads them, so a restart loses none.
        every = settings.sla.check_seconds
        application.job_queue.run_repeating(check_deadlines, interval=every, first=min(every, 5.0), name="deadlines")
        # Contacts spooled while the database was down are recorded as soon as it is back.
        replay = settings.database.replay_seconds
        application.job_queue.run_repeating(replay_spooled, interval=replay, first=min(replay, 1.0), name="spool")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One place where failures are logged; the customer's contact was recorded before any send."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %r", update_id, context.error, exc_info=context.error)
