"""Copying escalated chats into the staff group: one forum topic per customer, created once, re-created if deleted."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from telegram import Bot
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from crm_store import relay
from crm_store.models import Customer, Direction
from crm_store.types import utcnow
from desk import escalation
from desk.messages import Escalation
from handlers.context import desk_of, settings_of
from handlers.render import send_html

log = logging.getLogger(__name__)
TOPIC_NAME_CHARS = 120
_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)


async def to_staff(
    context: ContextTypes.DEFAULT_TYPE, handover: Escalation, customer_chat_id: int, message_id: int | None
) -> None:
    """Post the ticket header (if any) and a copy of the customer's message in their topic."""
    group = settings_of(context).staff_group.chat_id
    if not group:
        log.warning("ticket %s: no staff group configured; it waits in the store", handover.ticket_number)
        return
    # One customer, one topic: two first messages at once must not create two (DESIGN.md pitfalls).
    async with _locks[handover.customer_id]:
        for attempt in (1, 2):
            thread_id = await _topic_for(context, group, handover.customer_id)
            try:
                if handover.header:
                    await send_html(context.bot, group, handover.header, thread_id=thread_id)
                if handover.relay_message and message_id is not None:
                    await _copy_in(context, group, thread_id, handover, customer_chat_id, message_id)
                return
            except BadRequest as exc:
                if "thread not found" not in str(exc).lower() or attempt == 2:
                    raise
                # Someone deleted the topic: forget it and open a new one with a fresh card.
                await desk_of(context).run(_unlink, handover.customer_id)


async def notify_topic(context: ContextTypes.DEFAULT_TYPE, customer_id: int, text: str) -> None:
    """An alert about a customer (deadline, low score…) in their topic, or the group's General topic."""
    group = settings_of(context).staff_group.chat_id
    if not group:
        log.warning("staff alert not delivered, no staff group configured")
        return
    topic = await desk_of(context).run(_topic_of, customer_id)
    try:
        await send_html(context.bot, group, text, thread_id=topic)
    except BadRequest as exc:
        if topic is None or "thread not found" not in str(exc).lower():
            raise
        await send_html(context.bot, group, text)


async def _topic_for(context: ContextTypes.DEFAULT_TYPE, group: int, customer_id: int) -> int:
    desk = desk_of(context)
    thread_id = await desk.run(_topic_of, customer_id)
    if thread_id is not None:
        return thread_id
    name, card = await desk.run(_name_and_card, customer_id, desk.context.zone)
    topic = await context.bot.create_forum_topic(group, name)
    linked = await desk.run(_link, customer_id, group, topic.message_thread_id)
    await send_html(context.bot, group, card, thread_id=linked)
    return linked


async def _copy_in(
    context: ContextTypes.DEFAULT_TYPE,
    group: int,
    thread_id: int,
    handover: Escalation,
    customer_chat_id: int,
    message_id: int,
) -> None:
    copied = await context.bot.copy_message(group, customer_chat_id, message_id, message_thread_id=thread_id)
    await desk_of(context).run(
        _remember, handover, Direction.INBOUND, customer_chat_id, message_id, group, copied.message_id
    )


async def copy_to_customer(
    bot: Bot, customer_chat_id: int, group: int, staff_message_id: int, reply_to: int | None
) -> int | None:
    """Copy a staff message to the customer; the customer's message id, or None when they blocked the bot."""
    try:
        copied = await bot.copy_message(
            customer_chat_id, group, staff_message_id, reply_to_message_id=reply_to, allow_sending_without_reply=True
        )
    except Forbidden:
        return None
    return copied.message_id


def _topic_of(session: Session, customer_id: int) -> int | None:
    topic = relay.topic_of(session, customer_id)
    return topic.thread_id if topic else None


def _name_and_card(session: Session, customer_id: int, zone: ZoneInfo) -> tuple[str, str]:
    customer = session.get_one(Customer, customer_id)
    return topic_name(customer), escalation.customer_card(session, zone, customer)


def _link(session: Session, customer_id: int, group: int, thread_id: int) -> int:
    return relay.link_topic(session, customer_id, group, thread_id, utcnow()).thread_id


def _unlink(session: Session, customer_id: int) -> None:
    relay.unlink_topic(session, customer_id)


def _remember(
    session: Session,
    handover: Escalation,
    direction: Direction,
    customer_chat_id: int,
    customer_message_id: int,
    group: int,
    staff_message_id: int,
) -> None:
    relay.record_relay(
        session,
        customer_id=handover.customer_id,
        direction=direction,
        customer_chat_id=customer_chat_id,
        customer_message_id=customer_message_id,
        staff_chat_id=group,
        staff_message_id=staff_message_id,
        contact_id=handover.contact_id,
        at=utcnow(),
    )


def topic_name(customer: Customer) -> str:
    handle = f" @{customer.username}" if customer.username else ""
    return f"{customer.display_name or customer.external_id}{handle} · {customer.external_id}"[:TOPIC_NAME_CHARS]
