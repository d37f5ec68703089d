"""The staff group: commands in customers' topics, and staff messages copied to customers.

Only configured staff count; anyone else in the group is refused (commands) or ignored (messages).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from desk import privacy, staff
from desk.messages import Who, staff_member
from desk.names import person_name
from desk.staff_tools import Caller, Where, run_staff_command
from handlers.context import desk_of, offers_of, settings_of
from handlers.inbound import message_kind
from handlers.render import send_html

log = logging.getLogger(__name__)
NOT_STAFF = "⛔ 这个群里的命令只有工作人员可以使用。"
NOT_MANAGER = "⛔ 只有经理可以确认删除客户数据。"
# Callback data of the erase confirmation's buttons (the customers' buttons never start with "staff:").
STAFF_BUTTON = "staff:"
ERASE_YES, ERASE_NO = f"{STAFF_BUTTON}erase:", f"{STAFF_BUTTON}keep:"


def register_staff_handlers(application: Application, group_chat_id: int) -> None:
    if not group_chat_id:
        return
    group = filters.Chat(chat_id=group_chat_id)
    # New messages only: editing "/note …" to fix a typo must not run the command again.
    application.add_handler(MessageHandler(group & filters.COMMAND & filters.UpdateType.MESSAGE, on_staff_command))
    application.add_handler(MessageHandler(group & filters.UpdateType.MESSAGE & ~filters.COMMAND, on_staff_message))
    # An edited reply corrects the customer's copy (¥1000 → ¥100 must reach them).
    application.add_handler(MessageHandler(group & filters.UpdateType.EDITED_MESSAGE & ~filters.COMMAND, on_staff_edit))
    # Before the customers' button handler, which would take these presses for stale customer buttons.
    application.add_handler(CallbackQueryHandler(on_staff_button, pattern=f"^{STAFF_BUTTON}"))


def _who(update: Update) -> Who:
    user = update.effective_user
    assert user is not None
    return staff_member(user.id, person_name(user.first_name, user.last_name))


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
    caller = Caller(_who(update), user.username, settings_of(context).roles.is_manager(user.id))
    where = Where(message.chat_id, thread_id, message.message_id)
    result = await desk.run(run_staff_command, desk.context, caller, where, command, argument)
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
    if message.via_bot is not None and message.via_bot.id == context.bot.id and (message.text or "").startswith("/"):
        await on_staff_command(update, context)  # a canned reply picked inline ("/r CODE"), never relayed as typed
        return
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


async def on_staff_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff member edited a message in a customer's topic: the customer's copy is edited too."""
    message = update.edited_message
    user = update.effective_user
    if message is None or user is None or not message.is_topic_message or message.message_thread_id is None:
        return
    if not settings_of(context).roles.is_staff(user.id) or not (message.text or message.caption):
        return
    desk = desk_of(context)
    queued = await desk.run(
        staff.relay_staff_edit,
        desk.context,
        _who(update),
        message.chat_id,
        message.message_thread_id,
        message.message_id,
        message.text or message.caption or "",
        caption=message.text is None,
    )
    desk.submit(queued)


async def check_deadlines(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The periodic job: remind before the promised deadline, flag a breach after it."""
    await desk_of(context).check_deadlines()


async def _erase(
    context: ContextTypes.DEFAULT_TYPE, message: Message, user_id: int, argument: str, thread_id: int | None
) -> None:
    """Step one of an erasure: the manager sees who it is and gets a confirm button only they can press."""
    if not settings_of(context).roles.is_manager(user_id):
        await send_html(context.bot, message.chat_id, NOT_MANAGER, thread_id=thread_id)
        return
    number, _, reason = argument.partition(" ")
    if not number.isdigit():
        await send_html(context.bot, message.chat_id, "用法：/erase 客户编号 [原因]", thread_id=thread_id)
        return
    desk = desk_of(context)
    shown = await desk.run(privacy.preview, int(number))
    problem = privacy.refusal(shown, number, reason.strip())
    if problem is not None or shown is None:
        await send_html(context.bot, message.chat_id, problem or "", thread_id=thread_id)
        return
    token = offers_of(context).make(shown.customer_id, user_id, reason.strip(), desk.context.clock())
    buttons = [
        InlineKeyboardButton("🗑 确认删除", callback_data=f"{ERASE_YES}{token}"),
        InlineKeyboardButton("取消", callback_data=f"{ERASE_NO}{token}"),
    ]
    text = privacy.confirmation_text(shown, reason.strip(), desk.context.zone)
    markup = InlineKeyboardMarkup([buttons])
    await send_html(context.bot, message.chat_id, text, thread_id=thread_id, markup=markup)


async def on_staff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step two: the confirm (or cancel) button under an /erase, pressed in the staff group."""
    query = update.callback_query
    if query is None or query.message is None or query.message.chat.id != settings_of(context).staff_group.chat_id:
        if query is not None:
            await query.answer()
        return
    user_id = query.from_user.id
    if not settings_of(context).roles.is_manager(user_id):
        await query.answer(NOT_MANAGER, show_alert=True)
        return
    data = query.data or ""
    if data.startswith(ERASE_NO):
        cancelled = offers_of(context).cancel(data.removeprefix(ERASE_NO), user_id)
        await query.answer("已取消" if cancelled else "只有发起删除的经理可以取消。", show_alert=not cancelled)
        if cancelled:
            await _settle(query.message, "已取消删除，数据保持不变。")
        return
    desk = desk_of(context)
    offer = offers_of(context).take(data.removeprefix(ERASE_YES), user_id, desk.context.clock())
    if isinstance(offer, str):
        await query.answer(offer, show_alert=True)
        return
    await query.answer()
    who = staff_member(user_id, person_name(query.from_user.first_name, query.from_user.last_name))
    anonymised = await desk.erase(offer.customer_id, who, offer.reason or None)
    if anonymised is None:
        await _settle(query.message, f"没有编号为 {offer.customer_id} 的客户。")
        return
    # The question named the customer: the answer in its place does not.
    await _settle(query.message, f"🗑 已删除客户 {offer.customer_id} 的数据：{anonymised} 条记录已匿名化。")


async def _settle(message: MaybeInaccessibleMessage, text: str) -> None:
    """Replace the confirm question (and its buttons) by what became of it."""
    try:
        await message.get_bot().edit_message_text(text, message.chat.id, message.message_id, reply_markup=None)
    except TelegramError as exc:  # e.g. it sat in the erased customer's topic, already deleted
        log.info("erase confirmation not edited (%s)", exc.__class__.__name__)


def _has_content(message: Message) -> bool:
    return bool(message.text or message.caption or message.effective_attachment)
