"""Managers: /logs and /report. Thin glue: check the role, parse, run the pull in a worker thread, send files."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from tempfile import TemporaryDirectory

from telegram import InputMediaPhoto, Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from desk.names import person_name
from handlers.context import desk_of, settings_of
from handlers.render import send_html
from reports import (
    LogExport,
    Requester,
    UsageError,
    export_logs,
    fit_for_upload,
    make_report,
    parse_log_args,
    parse_report_args,
)
from reports.packaging import TELEGRAM_UPLOAD_LIMIT

log = logging.getLogger(__name__)

REFUSED = "抱歉，此命令仅限管理人员使用。\nSorry, this command is for managers only."
PRIVATE_ONLY = (
    "客户资料保密：请在与我的私聊中使用此命令。\n"
    "Customer data is confidential: use this command in a private chat with me."
)
# Big uploads take a while; PTB's default write timeout (20 s) is meant for messages.
UPLOAD_TIMEOUT = 300
# Replaced in tests to exercise zipping and splitting with small files.
upload_limit = TELEGRAM_UPLOAD_LIMIT


def register_manager_handlers(application: Application) -> None:
    """/logs and /report for everyone (so nobody else's handler sees them); non-managers are refused."""
    # New messages only: editing an old /logs must not pull the data again.
    new_messages = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("logs", on_logs, filters=new_messages))
    application.add_handler(CommandHandler("report", on_report, filters=new_messages))


async def on_logs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/logs [period] [filters]: a manager gets the matching contacts as a CSV or XLSX file."""
    chat_id = await manager_chat(update, context)
    if chat_id is None:
        return
    settings = settings_of(context)
    try:
        log_filter = parse_log_args(context.args or [], settings.desk.zone)
    except UsageError as exc:
        await send_html(context.bot, chat_id, str(exc))
        return
    await send_html(context.bot, chat_id, f"正在导出 Exporting: {log_filter.describe()} …")
    with TemporaryDirectory(prefix="logs-") as folder:
        export = await asyncio.to_thread(
            export_logs, desk_of(context).store, log_filter, zone=settings.desk.zone, folder=Path(folder),
            requester=_requester(update),
        )  # fmt: skip
        if not export.rows:
            await send_html(context.bot, chat_id, f"没有符合条件的记录。No contacts match: {log_filter.describe()}")
            return
        await _send_export(context, chat_id, export)


async def _send_export(context: ContextTypes.DEFAULT_TYPE, chat_id: int, export: LogExport) -> None:
    upload = await asyncio.to_thread(fit_for_upload, export.path, limit=upload_limit)
    if upload.split:
        note = (
            f"文件超过 Telegram 的 50 MB 上限，已压缩并分成 {len(upload.paths)} 卷：用 7-Zip 打开 .001，"
            f"或 cat {export.path.name}.zip.* > {export.path.name}.zip 合并。\n"
            f"Over Telegram's 50 MB limit: zipped and split into {len(upload.paths)} parts; open the .001 part "
            "with 7-Zip, or join them with cat first."
        )
        await send_html(context.bot, chat_id, note)
    elif upload.zipped:
        await send_html(context.bot, chat_id, "文件超过 50 MB，已压缩为 zip。Over 50 MB: sent as a zip.")
    for number, path in enumerate(upload.paths, start=1):
        part = f" · {number}/{len(upload.paths)}" if upload.split else ""
        await context.bot.send_document(
            chat_id, document=path, filename=path.name, caption=f"{export.rows:,} 条记录 rows{part}",
            write_timeout=UPLOAD_TIMEOUT, read_timeout=UPLOAD_TIMEOUT,
        )  # fmt: skip


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report [period]: a manager gets the charts and a short summary."""
    chat_id = await manager_chat(update, context)
    if chat_id is None:
        return
    settings = settings_of(context)
    try:
        period = parse_report_args(context.args or [], settings.desk.zone)
    except UsageError as exc:
        await send_html(context.bot, chat_id, str(exc))
        return
    desk = desk_of(context)
    kb = desk.kb

    def entry_title(entry_id: str) -> str | None:
        entry = kb.get(entry_id)
        return entry.question if entry else None

    with TemporaryDirectory(prefix="report-") as folder:
        report = await asyncio.to_thread(
            make_report, desk.store, period, folder=Path(folder), requester=_requester(update), entry_title=entry_title
        )
        media = [InputMediaPhoto(path.read_bytes(), filename=path.name) for path in report.charts]
        media[0] = InputMediaPhoto(media[0].media, caption=f"客服报表 Report {period.label}")
        # A media group holds at most 10 photos.
        for start in range(0, len(media), 10):
            await context.bot.send_media_group(chat_id, media[start : start + 10], write_timeout=UPLOAD_TIMEOUT)
    await send_html(context.bot, chat_id, report.summary)


async def manager_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The chat to answer in when a manager asks in private; otherwise refuse and return None.

    In a group the bot does not serve nobody is answered, as for any other message there; in the staff group
    the refusal goes to the topic the command was written in, not to General."""
    message, user = update.effective_message, update.effective_user
    settings = settings_of(context)
    if message is None or not serves_chat(message.chat.type, message.chat_id, settings.staff_group.chat_id):
        return None
    thread_id = message.message_thread_id if message.is_topic_message else None
    if not settings.roles.is_manager(user.id if user else None):
        log.warning("refused %s from user %s", (message.text or "").split()[0], user.id if user else None)
        await send_html(context.bot, message.chat_id, REFUSED, thread_id=thread_id)
        return None
    if message.chat.type != ChatType.PRIVATE:
        await send_html(context.bot, message.chat_id, PRIVATE_ONLY, thread_id=thread_id)
        return None
    return message.chat_id


def serves_chat(chat_type: str, chat_id: int, staff_group_id: int) -> bool:
    """The bot talks in private chats and in its configured staff group, nowhere else."""
    return chat_type == ChatType.PRIVATE or chat_id == staff_group_id


def _requester(update: Update) -> Requester:
    user = update.effective_user
    if user is None:
        return Requester("telegram")
    full_name = person_name(user.first_name, user.last_name)
    name = f"{full_name} (@{user.username})" if user.username else full_name
    return Requester("telegram", user_id=user.id, name=name)
