"""客服助手: start the customer-service desk on Telegram, or in the terminal when no token is configured.

python bot.py                 # Telegram when a token is set, else the console
python bot.py --console       # the console, always
python bot.py --config FILE   # another config.toml
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from typing import TextIO
from urllib.parse import urlsplit

from starlette.routing import Route
from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from app.config import ConfigError, Settings, load_settings
from app.startup import build_desk
from app.web import console_routes, local_link, serve_web, stop_web, web_app
from console import run_console
from desk.service import Desk, StoreInUse
from handlers import register_handlers
from handlers.aiohttp_request import AiohttpRequest
from handlers.context import DESK_KEY, SETTINGS_KEY
from handlers.ordering import PerChatOrderedProcessor
from handlers.polling import ConfirmingPoller, StoppedWhileConnecting, polling
from handlers.webhook import webhook, webhook_endpoint
from knowledge import KnowledgeError
from webconsole import LocalLogin

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.logging.level)
    try:
        desk = build_desk(settings)
    except KnowledgeError as exc:
        print(f"Cannot start: the knowledge base has problems:\n{exc}", file=sys.stderr)
        return 2
    try:
        desk.claim_store()
    except StoreInUse as exc:
        desk.close()
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        if args.console or not settings.telegram.has_token:
            if not args.console:
                log.info("no telegram.token configured: starting the console (see README to connect a bot)")
            return asyncio.run(console_session(desk, settings))
        application = build_application(settings, desk)
        asyncio.run(serve(application, settings))
        return 0
    finally:
        desk.close()


async def console_session(
    desk: Desk, settings: Settings, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, web: bool | None = None
) -> int:
    """The terminal chat, and, for a person at a terminal (`web` None: stdin is one), the web console beside
    it, opened with a one-time link printed here: staff answers typed there appear in this chat."""
    server = None
    if (stdin.isatty() if web is None else web) and settings.web.enabled and settings.web.console:
        local = LocalLogin()
        app = web_app(desk, lambda: None, console_routes(desk, settings, local))
        server = await serve_web(app, settings.web.host, settings.web.port)
        if server.started:
            link = local_link(server, settings.web.host, local)
            print(
                f"网页工作台 Web console — 一次性登录链接 one-time sign-in link:\n  {link}\n", file=stdout, flush=True
            )
    try:
        return await run_console(desk, stdin=stdin, stdout=stdout)
    finally:
        if server is not None:
            await stop_web(server)


async def serve(application: Application, settings: Settings) -> None:
    """Serve Telegram (polling or webhook) until SIGINT or SIGTERM; updates in hand are finished first.

    The web server (health, readiness, metrics, and the webhook) starts first, so an operator sees the
    desk waiting when Telegram cannot be reached yet.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    tg, web = settings.telegram, settings.web
    heard: list[float] = []  # when Telegram last answered (polling) or accepted our webhook
    pollers: list[ConfirmingPoller] = []

    def telegram_age() -> float | None:
        seen = pollers[0].last_contact if pollers else (heard[-1] if heard else None)
        return None if seen is None else (0.0 if tg.mode == "webhook" else time.monotonic() - seen)

    routes = []
    if tg.mode == "webhook":
        path = urlsplit(tg.webhook_url).path or "/telegram"
        routes.append(
            Route(path, webhook_endpoint(application, tg.webhook_secret.get_secret_value()), methods=["POST"])
        )
    desk = application.bot_data[DESK_KEY]
    routes += console_routes(desk, settings)
    server = await serve_web(web_app(desk, telegram_age, routes), web.host, web.port) if web.enabled else None
    try:
        if tg.mode == "webhook":
            secret = tg.webhook_secret.get_secret_value()
            async with webhook(application, url=tg.webhook_url, secret=secret, stopping=stop):
                heard.append(time.monotonic())
                await stop.wait()
            return
        async with polling(
            application, timeout=tg.poll_timeout, allowed_updates=Update.ALL_TYPES, stopping=stop
        ) as poller:
            pollers.append(poller)
            log.info("polling Telegram")
            stopped = asyncio.create_task(stop.wait())
            try:
                # Until a signal, or until polling itself fails for good (e.g. the token was revoked).
                await asyncio.wait({stopped, poller.task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
    except StoppedWhileConnecting:
        log.info("stopped before Telegram could be reached")
    finally:
        if server is not None:
            await stop_web(server)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="客服助手 — customer-service desk on Telegram")
    parser.add_argument("--config", help="path to config.toml (default: ./config.toml)")
    parser.add_argument("--console", action="store_true", help="chat in the terminal instead of Telegram")
    return parser.parse_args(argv)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def build_application(settings: Settings, desk: Desk) -> Application:
    """The real python-telegram-bot Application, pointed at `telegram.base_url` (Telegram or a local server)."""
    tg = settings.telegram
    builder = (
        ApplicationBuilder()
        .token(tg.token.get_secret_value())
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .concurrent_updates(PerChatOrderedProcessor(tg.concurrent_updates))
    )
    # Only the Bot API goes through the proxy (hosts that reach Telegram through one).
    if tg.http_client == "aiohttp" and not tg.proxy.startswith("socks"):
        proxy = tg.proxy or None
        builder = builder.request(AiohttpRequest(256, proxy=proxy))
        builder = builder.get_updates_request(AiohttpRequest(1, read_timeout=tg.poll_timeout + 10, proxy=proxy))
    else:
        builder = builder.get_updates_read_timeout(tg.poll_timeout + 10)
        if tg.proxy:
            builder = builder.proxy(tg.proxy).get_updates_proxy(tg.proxy)
    if tg.overall_max_rate > 0:
        limiter = AIORateLimiter(
            overall_max_rate=tg.overall_max_rate,
            group_max_rate=tg.group_max_rate,
            group_time_period=60,
            max_retries=tg.max_retries,
        )
        builder = builder.rate_limiter(limiter)
    application = builder.build()
    application.bot_data[DESK_KEY] = desk
    application.bot_data[SETTINGS_KEY] = settings
    register_handlers(application)
    return application


if __name__ == "__main__":
    sys.exit(main())
