"""The real bot, in-process, against the fake Bot API: used by end-to-end tests and benchmarks."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from telegram import Update
from telegram.ext import Application

from app.config import Settings, load_settings
from app.startup import build_desk
from bot import build_application
from desk.hours import WEEKDAYS
from desk.service import Desk
from handlers.polling import polling
from tests.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
ALWAYS_OPEN = {day: "00:00-24:00" for day in WEEKDAYS}
# The HTTP client under python-telegram-bot for the bots built here. The delivery and fault tests run with
# each of the two (the `each_http_client` fixture in tests/conftest.py).
HTTP_CLIENT = "aiohttp"


@dataclass
class RunningBot:
    fake: FakeBotApi
    application: Application
    desk: Desk
    settings: Settings


def settings_for(fake_base_url: str, token: str, database_url: str, **sections: dict[str, Any]) -> Settings:
    """The shipped config.toml, pointed at the fake server and a test database."""
    telegram = {"token": token, "base_url": fake_base_url, "base_file_url": fake_base_url.replace("/bot", "/file/bot")}
    telegram["http_client"] = HTTP_CLIENT
    telegram.update(sections.pop("telegram", {}))
    # Each bot gets its own spool folder: a test's outage must never replay into another test's database.
    database = {"url": database_url, "spool_dir": tempfile.mkdtemp(prefix="spool-"), **sections.pop("database", {})}
    # Tests run at any hour: a desk that is always open, unless a test sets the hours it is about.
    sections.setdefault("hours", ALWAYS_OPEN)
    return load_settings(ROOT / "config.toml", telegram=telegram, database=database, **sections)


@asynccontextmanager
async def running_bot(database_url: str, **sections: dict[str, Any]) -> AsyncIterator[RunningBot]:
    """Start the fake Bot API and the real Application polling it; stop both afterwards."""
    async with FakeBotApi() as fake:
        settings = settings_for(fake.base_url, fake.token, database_url, **sections)
        # Off the event loop: start-up may talk to a server this loop serves (a proxy in outage tests).
        desk = await asyncio.to_thread(build_desk, settings)
        application = build_application(settings, desk)
        try:
            async with polling(application, timeout=1, allowed_updates=Update.ALL_TYPES):
                yield RunningBot(fake, application, desk, settings)
        finally:
            desk.close()


def stored(bot: RunningBot, model: type[T]) -> list[T]:
    """Every row of `model`, in insertion order, detached so the test can read them after the session."""
    with bot.desk.store.transaction() as session:
        rows = list(session.scalars(sa.select(model).order_by(model.id)))  # type: ignore[attr-defined]
        session.expunge_all()
        return rows


def texts_sent(bot: RunningBot, chat_id: int) -> list[str]:
    """The texts of the messages the bot sent to `chat_id`, in order."""
    return [call.params.get("text", "") for call in bot.fake.sent("sendMessage", chat_id=chat_id)]


async def eventually(check: Callable[[], T], *, timeout: float = 5.0) -> T:
    """Poll `check` until it returns something truthy (the bot works concurrently with the test)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result or asyncio.get_running_loop().time() > deadline:
            assert result, f"condition not met within {timeout} s"
            return result
        await asyncio.sleep(0.02)
