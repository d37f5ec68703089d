"""Managers keep the knowledge base: review learned phrasings, see unanswered questions, reload the files."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from desk import learning
from desk.messages import staff_member
from handlers.context import desk_of, settings_of
from handlers.manager import manager_chat
from handlers.render import send_html
from knowledge import KnowledgeBase, KnowledgeError
from knowledge.advice import advise
from reports.periods import parse_period

log = logging.getLogger(__name__)
MAX_PROBLEMS_SHOWN = 20


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
    await send_html(context.bot, chat_id, await desk.run(learning.review_text, desk.context))


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
    who = staff_member(user.id if user else None, user.full_name if user else None)
    try:
        text, changed = await desk.run(
            learning.decide, desk.context, settings.knowledge.paths, int(args[0].lstrip("#")), accept, who,
            desk.context.clock(),
        )  # fmt: skip
    except learning.DecisionFailed as exc:
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
    text = await desk.run(learning.unanswered_text, period)
    await send_html(context.bot, chat_id, f"最近 {days} 天 · last {days} days\n{text}")


async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = await manager_chat(update, context)
    if chat_id is None:
        return
    await send_html(context.bot, chat_id, await _reload(context))


async def _reload(context: ContextTypes.DEFAULT_TYPE) -> str:
    """Load the knowledge files again; a broken edit keeps the old knowledge base serving."""
    settings, desk = settings_of(context), desk_of(context)
    try:
        kb, advice = await asyncio.to_thread(
            _load, settings.knowledge.paths, settings.knowledge.thresholds, desk.kb.embedder
        )
    except KnowledgeError as exc:
        problems = str(exc).splitlines()
        shown = "\n".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f"\n…还有 {len(problems) - MAX_PROBLEMS_SHOWN} 行" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        log.warning("knowledge reload refused: %d problem lines", len(problems))
        return f"⚠️ 知识库有错误，继续使用原来的版本：\n{shown}{more}"
    before = len(desk.kb.entries)
    desk.replace_knowledge(kb)
    reply = f"✅ 知识库已重新加载：{len(kb.entries)} 条（原 {before} 条）。"
    if advice:
        more = f"\n…还有 {len(advice) - MAX_PROBLEMS_SHOWN} 条" if len(advice) > MAX_PROBLEMS_SHOWN else ""
        reply += "\n💡 可以改进的地方（不影响使用）：\n" + "\n".join(advice[:MAX_PROBLEMS_SHOWN]) + more
    return reply


def _load(paths, thresholds, embedder=None) -> tuple[KnowledgeBase, list[str]]:
    """The knowledge base (its semantic stage embedding what changed in the background), and advice on
    entries that load but will match badly."""
    kb = KnowledgeBase.load(paths, thresholds, embedder=embedder, background=True)
    return kb, [str(item) for item in advise(kb.entries, kb.matcher.segmenter, kb.origins)]
