"""The staff group: commands in customers' topics, and staff messages copied to customers.

Only configured staff count; anyone else in the group is refused (commands) or ignored (messages).
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from desk import privacy, staff
from desk.messages import Who, staff_member
from handlers.context import desk_of, settings_of
from handlers.inbound import message_kind
from handlers.render import send_html

log = logging.getLogger(__name__)
NOT_STAFF = "⛔ 这个群里的命令只有工作人员可以使用。"


def register_staff_handlers(application: Application, group_chat_id: int) -> None:
    if not group_chat_id:
        return
    group = filters.Chat(chat_id=group_chat_id)
    # New messages only: editing "/note …" to fix a typo must not run the command again.
    application.add_handler(MessageHandler(group & filters.COMMAND & filters.UpdateType.MESSAGE, on_staff_command))
    application.add_handler(MessageHandler(group & filters.UpdateType.MESSAGE & ~filters.COMMAND, on_staff_message))


def _who(update: Update) -> Who:
    user = update.effective_user
    assert user is not None
    return staff_member(user.id, user.full_name)


async def on_staff_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not message.text:
        return
    thread_id = message.message_thread_id if message.is_topic_message else None
    if not settings_of(context).roles.is_staff(user.id):
        await send_html(context.bot, message.chat_id, NOT_STAFF, thread_id=thread_id)
        return
    head, _, argument = message.text.partition(" ")
    command = head.lstrip("/").split("@", 1)[0].lower()
    desk = desk_of(context)
    if command == "erase":
        await _erase(context, message, user.id, argument.strip(), thread_id)
        return
    result = await desk.run(
        staff.run_command, desk.context, _who(update), message.chat_id, thread_id, command, argument
    )
    desk.submit(result.outbox)
    if result.topic_text:
        await send_html(context.bot, message.chat_id, result.topic_text, thread_id=thread_id)


async def on_staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff member writes in a customer's topic: recorded, then copied to the customer by the outbox."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not message.is_topic_message or message.message_thread_id is None:
        return
    if not settings_of(context).roles.is_staff(user.id) or not _has_content(message):
        return  # outsiders in the group, and service messages (topic created…), are not relayed
    desk = desk_of(context)
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    if reply_to == message.message_thread_id:
        reply_to = None  # in a topic every message "replies" to the topic's first message
    queued = await desk.run(
        staff.relay_staff_message,
        desk.context,
        _who(update),
        message.chat_id,
        message.message_thread_id,
        message.message_id,
        message.text or message.caption or "",
        message_kind(message),
        reply_to,
    )
    desk.submit(queued)


async def check_deadlines(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The periodic job: remind before the promised deadline, flag a breach after it."""
    await desk_of(context).check_deadlines()


async def _erase(
    context: ContextTypes.DEFAULT_TYPE, message: Message, user_id: int, argument: str, thread_id: int | None
) -> None:
    """A manager confirms a customer's erasure; the customer is told, the erasure is recorded."""
    if not settings_of(context).roles.is_manager(user_id):
        await send_html(context.bot, message.chat_id, "⛔ 只有经理可以确认删除客户数据。", thread_id=thread_id)
        return
    if not argument.isdigit():
        await send_html(context.bot, message.chat_id, "用法：/erase 客户编号", thread_id=thread_id)
        return
    desk = desk_of(context)
    who = staff_member(user_id, message.from_user.full_name if message.from_user else None)
    result = await desk.run(privacy.erase_and_tell, int(argument), who, desk.context.clock())
    if result is None:
        await send_html(context.bot, message.chat_id, f"没有编号为 {argument} 的客户。", thread_id=thread_id)
        return
    anonymised, told = result
    await send_html(
        context.bot,
        message.chat_id,
        f"🗑 已删除客户 {argument} 的数据：{anonymised} 条记录已匿名化。",
        thread_id=thread_id,
    )
    desk.submit(told)


def _has_content(message: Message) -> bool:
    return bool(message.text or message.caption or message.effective_attachment)
