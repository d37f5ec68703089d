"""Telegram adapters: turn updates into desk calls and outcomes into Bot API calls. No business rules here."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from handlers.customer import on_customer_button, on_customer_message

log = logging.getLogger(__name__)


def register_handlers(application: Application) -> None:
    """All handlers, in the order they must be tried."""
    private = filters.ChatType.PRIVATE
    # Edited messages are answered again (customers edit to correct a question).
    application.add_handler(MessageHandler(private & filters.UpdateType.MESSAGES, on_customer_message))
    application.add_handler(CallbackQueryHandler(on_customer_button))
    application.add_error_handler(on_error)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One place where failures are logged; the customer's contact was recorded before any send."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %r", update_id, context.error, exc_info=context.error)
