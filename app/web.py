"""The desk's web server, in the bot's own process: health and readiness checks and Prometheus metrics.

`/healthz` says the process is up; `/readyz` whether it can serve (store reachable, knowledge base
loaded, Telegram answering); `/metrics` the counts of desk.metrics in Prometheus' text format. Nothing
here carries a customer's words or id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator, Sequence

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from app.config import CONSOLE_PATH, Settings
from crm_store import STORE_DOWN
from desk import metrics
from desk.service import Desk
from webconsole import ConsoleConfig, LocalLogin, console_app

log = logging.getLogger(__name__)
# Telegram answered getUpdates within this many seconds: it is reachable (a long poll lasts up to 50 s).
TELEGRAM_FRESH_SECONDS = 90.0


def web_app(desk: Desk, telegram_age: Callable[[], float | None], routes: Sequence[BaseRoute] = ()) -> Starlette:
    """`telegram_age()`: seconds since Telegram last answered, None when it never did; `routes`: the
    channels' own (the webhook)."""

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        checks = {"store": "ok", "knowledge": "ok", "telegram": "ok"}
        try:
            await desk.figures()
        except STORE_DOWN as exc:
            checks["store"] = f"unreachable ({exc.__class__.__name__})"
        if len(desk.kb) == 0:
            checks["knowledge"] = "empty"
        age = telegram_age()
        if age is None or age > TELEGRAM_FRESH_SECONDS:
            checks["telegram"] = "not answering" if age is None else f"silent for {age:.0f} s"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)

    async def metrics_page(request: Request) -> Response:
        with contextlib.suppress(*STORE_DOWN):
            figures = await desk.figures()
            metrics.OPEN_TICKETS.set(figures.open_tickets)
            metrics.BREACHED_TICKETS.set(figures.breached_tickets)
            for lane in ("customer", "staff"):
                metrics.OUTBOX_PENDING.labels(lane).set(figures.outbox_pending.get(lane, 0))
        metrics.SPOOL_DEPTH.set(await asyncio.to_thread(desk.spool_depth))
        metrics.KNOWLEDGE_ENTRIES.set(len(desk.kb))
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    own = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics_page)]
    return Starlette(routes=[*own, *routes])


def console_routes(desk: Desk, settings: Settings, local: LocalLogin | None = None) -> list[BaseRoute]:
    """The web console at /console when `[web] console` is on; `local`: console mode's one-time link."""
    web = settings.web
    if not web.console:
        return []
    config = ConsoleConfig(
        token=settings.telegram.token.get_secret_value().strip(),
        staff=frozenset(settings.roles.staff),
        managers=frozenset(settings.roles.managers),
        # Without a configured secret, sessions last as long as the process.
        session_secret=web.session_secret.get_secret_value() or secrets.token_urlsafe(32),
        zone=settings.desk.zone,
        kb_paths=tuple(settings.knowledge.paths),
        thresholds=settings.knowledge.thresholds,
        https_only=web.public_url.startswith("https://"),
        bot_username=web.bot_username.lstrip("@"),
        local_login=local is not None,
    )
    return [Mount(CONSOLE_PATH, app=console_app(desk, config, local))]


def local_link(server: EmbeddedServer, host: str, local: LocalLogin) -> str:
    """The one-time sign-in link for the person at the terminal (the port as bound: 0 picks a free one)."""
    port = server.servers[0].sockets[0].getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}{CONSOLE_PATH}/login/local?key={local.key}"


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside the bot's event loop: the bot owns the signals and says when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_web(app: Starlette, host: str, port: int) -> EmbeddedServer:
    """Start the server in the background; a port already taken is logged, and the bot goes on without it."""
    server = EmbeddedServer(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind
            log.error("web server not started on %s:%s (port taken?): no health or metrics endpoints", host, port)

    server.task = asyncio.create_task(run(), name="web")  # type: ignore[attr-defined]
    for _ in range(100):  # until it listens (or gave up), so a caller can rely on it
        if server.started or server.task.done():  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.02)
    if server.started:
        log.info("web server on http://%s:%s (/healthz, /readyz, /metrics, /console)", host, port)
    return server


async def stop_web(server: EmbeddedServer) -> None:
    server.should_exit = True
    with contextlib.suppress(Exception):
        await asyncio.wait_for(server.task, 5)  # type: ignore[attr-defined]
