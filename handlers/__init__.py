"""Telegram adapters: turn updates into desk calls and outcomes into Bot API calls. No business rules here."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ChatMemberHandler, ContextTypes, MessageHandler, filters

from desk.service import STORE_DOWN
from handlers.canned_inline import register_inline_handlers
from handlers.console_button import offer_console
from handlers.context import DESK_KEY, SETTINGS_KEY
from handlers.customer import keep_texts, on_customer_button, on_customer_message, on_my_chat_member, replay_spooled
from handlers.daily_summary import schedule_daily_summary
from handlers.knowledge_admin import register_knowledge_handlers
from handlers.manager import register_manager_handlers
from handlers.render import send_html
from handlers.staff import check_deadlines, register_staff_handlers

log = logging.getLogger(__name__)
DAY_SECONDS = 24 * 3600
STORE_DOWN_NOTICE = "⚠️ 数据库暂时不可用：刚才的操作没有执行，消息也没有转给客户，请稍后重试。"


def register_handlers(application: Application) -> None:
    """All handlers, in the order they must be tried."""
    # Managers' /logs and /report first, in every chat: nobody else's handler may see them, others are refused.
    register_manager_handlers(application)
    register_knowledge_handlers(application)
    private = filters.ChatType.PRIVATE
    settings = application.bot_data[SETTINGS_KEY]
    # The staff group first: its members are not customers.
    register_staff_handlers(application, settings.staff_group.chat_id)
    if settings.staff_group.chat_id:
        register_inline_handlers(application)
    # Edited messages are answered again (customers edit to correct a question).
    application.add_handler(MessageHandler(private & filters.UpdateType.MESSAGES, on_customer_message))
    application.add_handler(CallbackQueryHandler(on_customer_button))
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_error_handler(on_error)
    if application.job_queue is not None:
        # Deadlines live in the store; the job re-reads them, so a restart loses none.
        every = settings.sla.check_seconds
        application.job_queue.run_repeating(check_deadlines, interval=every, first=min(every, 5.0), name="deadlines")
        daily_at = settings.reports.daily_time(settings.desk.zone)
        if daily_at is not None:
            schedule_daily_summary(application, daily_at)
        # Contacts spooled while the database was down are recorded as soon as it is back.
        replay = settings.database.replay_seconds
        application.job_queue.run_repeating(replay_spooled, interval=replay, first=min(replay, 1.0), name="spool")
        if settings.web.enabled and settings.web.console_url:
            # The web console as a Mini App, for the people in [roles]; soon after start-up, once.
            application.job_queue.run_once(offer_console, when=1.0, name="console-button")
        if settings.privacy.keep_texts_days:
            # Once a day is enough for a limit counted in days; the first run soon after start-up.
            application.job_queue.run_repeating(keep_texts, interval=DAY_SECONDS, first=60, name="retention")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One place where failures are logged; the customer's contact was recorded before any send."""
    update_id = update.update_id if isinstance(update, Update) else None
    # The error's class only: its text may quote a customer's message, which stays out of the log at INFO.
    log.error("update %s failed: %s", update_id, context.error.__class__.__name__)
    log.debug("update %s failure detail", update_id, exc_info=context.error)
    if isinstance(context.error, STORE_DOWN) and isinstance(update, Update):
        await _tell_staff_store_is_down(update, context)
    elif isinstance(update, Update):
        # Not a passing outage but a failure of this update: it is confirmed (it would fail again), and
        # kept with the error so nothing a customer sent is silently lost.
        await _keep_failed(update, context)


async def _keep_failed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        await context.bot_data[DESK_KEY].keep_dead_letter(update.to_dict(), f"handler: {context.error!r}")
    except Exception as exc:  # the store is down too: the failure is in the log, without the customer's words
        log.error("update %s: failure not kept (%s)", update.update_id, exc.__class__.__name__)


async def _tell_staff_store_is_down(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Customers' messages are spooled; a staff action cannot be, so the staff member must know to retry."""
    message = update.effective_message
    if message is None or message.chat_id != context.bot_data[SETTINGS_KEY].staff_group.chat_id:
        return
    thread_id = message.message_thread_id if message.is_topic_message else None
    try:
        await send_html(context.bot, message.chat_id, STORE_DOWN_NOTICE, thread_id=thread_id)
    except TelegramError:
        log.warning("could not tell staff that the store is down")
