"""Customers in private chats: questions, commands, buttons, media, edits."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ContextTypes

from desk.messages import Inbound
from handlers.context import desk_of, settings_of
from handlers.inbound import CHANNEL, inbound_from_callback, inbound_from_message

log = logging.getLogger(__name__)


async def on_customer_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any message from a customer: the desk answers from the knowledge base, or explains what it can do."""
    message = update.effective_message
    if message is None:
        return
    inbound = inbound_from_message(update, message, edited=update.edited_message is not None)
    if inbound is not None:
        await _answer(context, inbound)


async def on_customer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under one of our answers: a suggestion picked, 'solved', or 'talk to a person'."""
    query = update.callback_query
    if query is None:
        return
    # Stop the button's spinner first; the answer follows as a new message.
    await query.answer()
    if query.message is not None and query.message.chat.type != ChatType.PRIVATE:
        return  # our buttons live in private chats; a press anywhere else is forged or stale
    await _answer(context, inbound_from_callback(update, query))


async def replay_spooled(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The periodic job: once the store is back, record what was spooled; its answers go out through the outbox."""
    await desk_of(context).replay_spool()


async def keep_texts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The daily retention job: texts older than `[privacy] keep_texts_days` are blanked."""
    await desk_of(context).forget_old_texts(settings_of(context).privacy.keep_texts_days)


async def _answer(context: ContextTypes.DEFAULT_TYPE, inbound: Inbound) -> None:
    # The desk records the contact and queues its replies and staff posts in one transaction; the
    # outbox sends them, so a slow staff group never holds up this customer or the next.
    await desk_of(context).handle(inbound)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A customer blocked or unblocked the bot; in groups we were not configured for, we leave."""
    change = update.my_chat_member
    if change is None:
        return
    chat, status = change.chat, change.new_chat_member.status
    if chat.type == ChatType.PRIVATE:
        blocked = status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        await desk_of(context).blocked_change(CHANNEL, str(change.from_user.id), blocked=blocked)
        return
    if chat.id != settings_of(context).staff_group.chat_id and status in (
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
    ):
        # Customer data must not flow into groups nobody configured.
        log.warning("added to unconfigured chat %s; leaving", chat.id)
        await context.bot.leave_chat(chat.id)
