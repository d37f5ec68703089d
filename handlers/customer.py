"""Customers in private chats: questions, commands, buttons, media, edits."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session
from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ContextTypes

from crm_store import ContentKind, find_customer
from desk.delivery import record_failure, set_blocked
from desk.messages import Inbound, Outcome
from handlers.context import desk_of, settings_of
from handlers.inbound import CHANNEL, inbound_from_callback, inbound_from_message
from handlers.relay import notify_topic, to_staff
from handlers.render import send_outcome

log = logging.getLogger(__name__)
BLOCKED_NOTICE = "⛔ 客户已屏蔽机器人：消息无法送达，工单保持打开，请通过其他方式联系客户。"
UNBLOCKED_NOTICE = "✅ 客户已重新启用机器人，可以在这里继续回复。"


async def on_customer_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any message from a customer: the desk answers from the knowledge base, or explains what it can do."""
    message = update.effective_message
    if message is None:
        return
    inbound = inbound_from_message(update, message, edited=update.edited_message is not None)
    if inbound is not None:
        await _answer(context, inbound, message.chat_id)


async def on_customer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under one of our answers: a suggestion picked, 'solved', or 'talk to a person'."""
    query = update.callback_query
    if query is None:
        return
    # Stop the button's spinner first; the answer follows as a new message.
    await query.answer()
    if query.message is not None and query.message.chat.type != ChatType.PRIVATE:
        return  # our buttons live in private chats; a press anywhere else is forged or stale
    inbound = inbound_from_callback(update, query)
    await _answer(context, inbound, inbound.customer.chat_id or query.from_user.id)


async def replay_spooled(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The periodic job: once the store is back, record what was spooled and send the real answers."""
    for inbound, outcome in await desk_of(context).replay_spool():
        chat_id = inbound.customer.chat_id or int(inbound.customer.external_id)
        await _follow_up(context, inbound, chat_id, outcome)


async def _answer(context: ContextTypes.DEFAULT_TYPE, inbound: Inbound, chat_id: int) -> None:
    outcome = await desk_of(context).handle(inbound)
    await _follow_up(context, inbound, chat_id, outcome)


async def _follow_up(context: ContextTypes.DEFAULT_TYPE, inbound: Inbound, chat_id: int, outcome: Outcome) -> None:
    if outcome.duplicate:
        return
    if outcome.spooled:
        await send_outcome(context.bot, chat_id, outcome)  # nothing recorded yet: the replay records it
        return
    await deliver(context, inbound.customer.external_id, chat_id, outcome)
    # The ticket is already in the store; the staff group learns of it after the customer's reply.
    if outcome.escalation is not None:
        message_id = inbound.message_id if inbound.kind != ContentKind.BUTTON else None
        await to_staff(context, outcome.escalation, chat_id, message_id)
    for notice in outcome.staff_notices:
        if outcome.customer_id is not None:
            await notify_topic(context, outcome.customer_id, notice)


async def deliver(context: ContextTypes.DEFAULT_TYPE, external_id: str, chat_id: int, outcome: Outcome) -> None:
    """Send the replies; what did not arrive is recorded, and staff hear when the customer blocked us."""
    delivery = await send_outcome(context.bot, chat_id, outcome)
    if delivery.reason is None:
        return
    desk = desk_of(context)
    tell_staff = await desk.run(
        record_failure, CHANNEL, external_id, delivery.undelivered, delivery.reason, desk.context.clock()
    )
    if tell_staff and outcome.escalation is not None:
        await notify_topic(context, outcome.escalation.customer_id, BLOCKED_NOTICE)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A customer blocked or unblocked the bot; in groups we were not configured for, we leave."""
    change = update.my_chat_member
    if change is None:
        return
    chat, status = change.chat, change.new_chat_member.status
    if chat.type == ChatType.PRIVATE:
        desk = desk_of(context)
        blocked = status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        customer_id = await desk.run(_blocked_change, str(change.from_user.id), blocked, desk.context.clock())
        if customer_id is not None:
            await notify_topic(context, customer_id, BLOCKED_NOTICE if blocked else UNBLOCKED_NOTICE)
        return
    if chat.id != settings_of(context).staff_group.chat_id and status in (
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
    ):
        # Customer data must not flow into groups nobody configured.
        log.warning("added to unconfigured chat %s; leaving", chat.id)
        await context.bot.leave_chat(chat.id)


def _blocked_change(session: Session, external_id: str, blocked: bool, now: datetime) -> int | None:
    if not set_blocked(session, CHANNEL, external_id, blocked=blocked, now=now):
        return None
    customer = find_customer(session, CHANNEL, external_id)
    return customer.id if customer else None
