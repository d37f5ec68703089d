"""Several bot.py worker processes in webhook mode on one PostgreSQL, and Telegram's side of it.

`Delivery` plays Telegram and the load balancer together: it posts each update to a worker and, when
that worker cannot take it (gone, refusing, 5xx), posts it to the next one until one answers 200.
Used by the worker tests and by bench/bench_workers.py.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from desk.hours import WEEKDAYS
from tests.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
SECRET = "workers-webhook-secret"
HOOK = "/telegram/hook"
GROUP, STAFF = -1002468, 900


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_env(fake: FakeBotApi, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESK_")}
    env.update(
        DESK_DATABASE__URL=database_url,
        DESK_TELEGRAM__TOKEN=fake.token,
        DESK_TELEGRAM__BASE_URL=fake.base_url,
        DESK_TELEGRAM__MODE="webhook",
        DESK_TELEGRAM__WEBHOOK_URL=f"https://desk.example.com{HOOK}",
        DESK_TELEGRAM__WEBHOOK_SECRET=SECRET,
        DESK_TELEGRAM__OVERALL_MAX_RATE="0",
        DESK_ROLES__STAFF=f"[{STAFF}]",
        DESK_STAFF_GROUP__CHAT_ID=str(GROUP),
        DESK_FLOOD__MAX_MESSAGES="1000",
        DESK_WORKERS__LEASE_SECONDS="1",
        DESK_WORKERS__PICKUP_SECONDS="0.2",
        DESK_LOGGING__LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
    )
    # Tests run at any hour: an always-open desk, so reminders and answers do not depend on the time of day.
    env.update({f"DESK_HOURS__{day.upper()}": "00:00-24:00" for day in WEEKDAYS})
    env.update(extra)
    return env


@dataclass
class Worker:
    n: int
    port: int
    log: Path
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK}"

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def leads(self) -> bool:
        return "this worker holds the lease" in self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)


async def start_workers(count: int, env: dict[str, str], folder: Path, fake: FakeBotApi) -> list[Worker]:
    """`count` workers, each with its own web port and spool; returns once each has registered its webhook."""
    workers = []
    registered = len(fake.sent("setWebhook"))
    for n in range(count):
        port = free_port()
        own = {**env, "DESK_WEB__PORT": str(port), "DESK_DATABASE__SPOOL_DIR": str(folder / f"spool{n}")}
        log = folder / f"worker{n}.log"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", cwd=ROOT, env=own, stdout=log.open("wb"), stderr=asyncio.subprocess.STDOUT
        )
        workers.append(Worker(n, port, log, process))
    await fake.wait_for("setWebhook", registered + count, timeout=120)
    return workers


async def stop_workers(workers: list[Worker]) -> None:
    for worker in workers:
        if worker.alive:
            worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        await asyncio.wait_for(worker.process.wait(), timeout=30)


@dataclass
class Delivery:
    """Posts updates to the workers, moving on to the next worker until one says 200."""

    workers: list[Worker]
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30))
    _turn: itertools.count = field(default_factory=itertools.count)
    redelivered: int = 0

    async def post(self, update: dict[str, Any], first: int | None = None) -> int:
        """Deliver `update`; returns the index of the worker that took it."""
        start = next(self._turn) if first is None else first
        for attempt in itertools.count():
            worker = self.workers[(start + attempt) % len(self.workers)]
            if attempt:
                self.redelivered += 1
                await asyncio.sleep(0.05 if attempt < len(self.workers) else 0.5)
            if not worker.alive:
                continue
            try:
                answer = await self.client.post(
                    worker.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                )
            except httpx.TransportError:
                continue
            if answer.status_code == 200:
                return worker.n
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self.client.aclose()


def rows(database_url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()
