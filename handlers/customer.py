"""Customers in private chats: questions, commands, buttons, media, edits."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from crm_store import ContentKind
from desk.messages import Inbound
from handlers.context import desk_of
from handlers.inbound import inbound_from_callback, inbound_from_message
from handlers.relay import notify_topic, to_staff
from handlers.render import send_outcome


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
    inbound = inbound_from_callback(update, query)
    await _answer(context, inbound, inbound.customer.chat_id or query.from_user.id)


async def _answer(context: ContextTypes.DEFAULT_TYPE, inbound: Inbound, chat_id: int) -> None:
    outcome = await desk_of(context).handle(inbound)
    await send_outcome(context.bot, chat_id, outcome)
    # The ticket is already in the store; the staff group learns of it after the customer's reply.
    if outcome.escalation is not None:
        message_id = inbound.message_id if inbound.kind != ContentKind.BUTTON else None
        await to_staff(context, outcome.escalation, chat_id, message_id)
    for notice in outcome.staff_notices:
        if outcome.customer_id is not None:
            await notify_topic(context, outcome.customer_id, notice)
