"""Managers keep the knowledge base: review learned phrasings, see unanswered questions, reload the files."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from desk import candidate_phrasings
from desk.messages import staff_member
from desk.names import person_name
from handlers.context import desk_of, settings_of
from handlers.manager import manager_chat
from handlers.render import send_html
from reports.periods import parse_period

log = logging.getLogger(__name__)


def register_knowledge_handlers(application: Application) -> None:
    new_messages = filters.UpdateType.MESSAGE
    for name, callback in (
        ("review", on_review),
        ("accept", on_accept),
        ("reject", on_reject),
        ("unanswered", on_unanswered),
        ("reload", on_reload),
    ):
        application.add_handler(CommandHandler(name, callback, filters=new_messages))


async def on_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = await manager_chat(update, context)
    if chat_id is None:
        return
    desk = desk_of(context)
    await send_html(context.bot, chat_id, await desk.run(candidate_phrasings.review_text, desk.context))


async def on_accept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _decide(update, context, accept=True)


async def on_reject(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _decide(update, context, accept=False)


async def _decide(update: Update, context: ContextTypes.DEFAULT_TYPE, *, accept: bool) -> None:
    chat_id = await manager_chat(update, context)
    if chat_id is None:
        return
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        await send_html(context.bot, chat_id, f"用法：/{'accept' if accept else 'reject'} 编号（见 /review）")
        return
    desk, settings = desk_of(context), settings_of(context)
    user = update.effective_user
    who = staff_member(user.id if user else None, person_name(user.first_name, user.last_name) if user else None)
    try:
        text, changed = await desk.run(
            candidate_phrasings.decide, desk.context, settings.knowledge.paths, int(args[0].lstrip("#")), accept, who,
            desk.context.clock(),
        )  # fmt: skip
    except candidate_phrasings.DecisionFailed as exc:
        await send_html(context.bot, chat_id, f"没有加入：{exc}")
        return
    if changed:
        text += "\n" + await _reload(context)
    await send_html(context.bot, chat_id, text)


async def on_unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = await manager_chat(update, context)
    if chat_id is None:
        return
    args = context.args or []
    days = int(args[0].rstrip("d")) if args and args[0].rstrip("d").isdigit() else 30
    desk = desk_of(context)
    period = parse_period(f"{days}d", settings_of(context).desk.zone)
    text = await desk.run(candidate_phrasings.unanswered_text, period)
    await send_html(context.bot, chat_id, f"最近 {days} 天 · last {days} days\n{text}")


async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = await manager_chat(update, context)
    if chat_id is None:
        return
    await send_html(context.bot, chat_id, await _reload(context))


async def _reload(context: ContextTypes.DEFAULT_TYPE) -> str:
    """Load the knowledge files again; a broken edit keeps the old knowledge base serving."""
    settings = settings_of(context)
    return await desk_of(context).reload_knowledge(settings.knowledge.paths, settings.knowledge.thresholds)
