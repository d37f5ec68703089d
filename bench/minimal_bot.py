"""The yardstick for bench_pipeline.py: a bare python-telegram-bot bot, one INSERT and one sendMessage per message.

PTB's own Updater polls, one handler writes the message to SQLite (sqlite3, commit per message) and
answers with a fixed text. Nothing else: no desk, no ORM, no outbox. Our figures are read against it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from timing import stamp_handling

if TYPE_CHECKING:
    from tests.fake_bot_api import FakeBotApiProcess


def build_minimal_bot(base_url: str, token: str, database: str) -> tuple[Application, sqlite3.Connection]:
    """The bare bot and its SQLite connection (one table of messages)."""
    connection = sqlite3.connect(database)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS message (update_id INTEGER PRIMARY KEY, chat_id INTEGER, text TEXT, at REAL)"
    )

    async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The customer gets one fixed reply; their message is one row."""
        message = update.effective_message
        connection.execute(
            "INSERT INTO message (update_id, chat_id, text, at) VALUES (?, ?, ?, ?)",
            (update.update_id, message.chat_id, message.text, time.time()),
        )
        connection.commit()
        await message.reply_text("收到")

    application = ApplicationBuilder().token(token).base_url(base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, answer))
    return application, connection


async def run_minimal_bot(fake: FakeBotApiProcess, chats: list[tuple[int, str]], database: str) -> dict[str, float]:
    """Push `chats` (user id, text) to `fake` and time the bare bot until every reply has been sent."""
    application, connection = build_minimal_bot(fake.base_url, fake.token, database)
    latencies = stamp_handling(application)
    async with application:
        await application.start()
        await application.updater.start_polling(timeout=1)
        cpu_before = time.process_time()
        begin = time.perf_counter()
        for user_id, text in chats:
            fake.push_text(user_id, text)
        sent = 0
        while sent < len(chats):
            await asyncio.sleep(0.01)
            sent = await asyncio.to_thread(fake.count, "sendMessage")
        elapsed = time.perf_counter() - begin
        cpu = time.process_time() - cpu_before
        await application.updater.stop()
        await application.stop()
    rows = connection.execute("SELECT count(*) FROM message").fetchone()[0]
    connection.close()
    return {"seconds": elapsed, "cpu": cpu, "latencies": latencies, "rows": rows, "sent": sent}
