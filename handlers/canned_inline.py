"""Inline mode for staff: typing `@botname words` in the staff group offers the matching canned replies.

Picking one sends `/r CODE` into the chat as the staff member's own message, so it goes the way `/r`
always goes (the bot fills it in for the topic's customer). Anyone who is not staff gets no results.
"""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.ext import Application, ContextTypes, InlineQueryHandler

from desk import canned
from handlers.context import desk_of, settings_of

# Results are per person (staff or not) and the replies change: Telegram must not cache them.
CACHE_SECONDS = 0
MAX_RESULTS = 20


def register_inline_handlers(application: Application) -> None:
    application.add_handler(InlineQueryHandler(on_inline_query))


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Staff see the canned replies matching what they typed; everyone else sees nothing."""
    query = update.inline_query
    if query is None:
        return
    if not settings_of(context).roles.is_staff(query.from_user.id):
        await query.answer([], cache_time=CACHE_SECONDS, is_personal=True)
        return
    desk = desk_of(context)
    found = await desk.run(canned.inline_choices, desk.context, query.query, MAX_RESULTS)
    results = [
        InlineQueryResultArticle(
            id=reply.code,
            title=f"{reply.code} · {reply.title}" if reply.title else reply.code,
            description=reply.text[:100],
            input_message_content=InputTextMessageContent(f"/r {reply.code}"),
        )
        for reply in found
    ]
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)
