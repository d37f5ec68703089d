"""Webhook mode: Telegram posts each update to the desk's own web server (python-telegram-bot's custom webhook).

A request without the right `X-Telegram-Bot-Api-Secret-Token` is refused before its body is read. An
accepted update is handled (recorded, answered through the outbox) before Telegram gets its 200, so a
crash mid-way makes Telegram send it again, and the store's unique update id records it once.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from telegram import Update
from telegram.ext import Application

from desk.sender import SenderPolicy
from handlers.context import DESK_KEY, SETTINGS_KEY
from handlers.polling import SEND_ON_STOP, connect, sender_policy
from handlers.telegram_channel import TelegramChannel

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_endpoint(application: Application, secret: str):
    """The endpoint Telegram posts updates to; checks the secret first, answers after handling."""
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("webhook request refused: wrong or missing secret token")
            return Response(status_code=403)
        try:
            raw: dict[str, Any] = json.loads(await request.body())
            update_id = int(raw["update_id"])
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        try:
            update = Update.de_json(raw, application.bot)
        except Exception as exc:  # an update this library cannot read: kept, and Telegram told to move on
            await application.bot_data[DESK_KEY].keep_dead_letter(raw, f"{exc.__class__.__name__}: {exc}")
            log.error("update %s unreadable (%s): kept as a dead letter", update_id, exc.__class__.__name__)
            return Response(status_code=200)
        # Through the per-chat ordered processor, as in polling: one chat's updates are handled in order.
        await application.update_processor.process_update(update, application.process_update(update))
        return Response(status_code=200)

    return receive


@contextlib.asynccontextmanager
async def webhook(
    application: Application, *, url: str, secret: str, stopping: Any = None, policy: SenderPolicy | None = None
) -> AsyncIterator[None]:
    """The Application started and its webhook registered with Telegram; on exit the outbox is given its time."""
    await connect(application, stopping)
    await application.start()
    desk = application.bot_data[DESK_KEY]
    settings = application.bot_data[SETTINGS_KEY]
    await desk.attach(TelegramChannel(application.bot, settings.staff_group.chat_id), policy or sender_policy(settings))
    await application.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
    log.info("webhook registered with Telegram")
    try:
        yield
    finally:
        # The webhook stays registered: Telegram keeps what arrives meanwhile, or another worker takes it.
        await application.stop()
        await desk.detach(SEND_ON_STOP)
        await application.shutdown()
