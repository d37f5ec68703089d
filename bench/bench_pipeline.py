"""Benchmark: N customer messages through the real Application, the desk, the store and the fake Bot API.

Prints messages/s, p50/p99 handling latency (update in → reply sent and recorded) and peak memory,
then checks that every message was recorded once and answered once.

With `--console`, the same messages go through twice per round: once with the bot alone, and once with
the web console served by the bot's own web server (in its process and event loop, as in production)
while a browser-like client in another process signs in and fetches the queue page every second. The
rounds alternate (without/with, then with/without) so the machine's load falls on both alike; the ratio
of the medians is printed against the 5 % budget.

    .venv/bin/python bench/bench_pipeline.py --messages 5000 [--postgres] [--customers 200]
    .venv/bin/python bench/bench_pipeline.py --messages 2000 --console [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

from timing import percentile, stamp_handling  # noqa: E402

from app.startup import build_desk  # noqa: E402
from app.web import console_routes, serve_web, stop_web, web_app  # noqa: E402
from bot import build_application  # noqa: E402
from crm_store import Contact  # noqa: E402
from handlers.polling import polling  # noqa: E402
from tests.bot_harness import settings_for  # noqa: E402
from tests.console_harness import STAFF, widget_payload  # noqa: E402
from tests.fake_bot_api import FakeBotApiProcess  # noqa: E402

QUESTIONS = [
    "怎么退货",
    "退款多久到账",
    "怎么开发票",
    "门店几点开门",
    "快递怎么还没到",
    "积分怎么用",
    "可以货到付款吗",
    "保修期多久",
    "会员有什么好处",
    "how do I return an item",
    "你好",
    "谢谢",
    "我想改一下收货地址",
    "发票抬头写错了",
    "东西坏了怎么修",
    "优惠券用不了",
]
POLL_SECONDS = 1.0
BUDGET = 0.05
POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def poll_console(base: str, payload: dict[str, str], stop: Any, fetched: Any, refused: Any, spent: Any) -> None:
    """A staff member's browser on another machine: signs in, then fetches the queue page every second."""
    import httpx

    with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as client:
        signed_in = client.get("/console/login/telegram", params=payload)
        if signed_in.status_code != 303:
            refused.value += 1
            return
        while not stop.is_set():
            started = time.perf_counter()
            page = client.get("/console/queue", headers={"accept": "text/html"})
            if page.status_code == 200 and 'id="queue-rows"' in page.text:
                fetched.value += 1
                spent.value += time.perf_counter() - started
            else:
                refused.value += 1
            stop.wait(max(0.0, POLL_SECONDS - (time.perf_counter() - started)))


async def run(messages: int, customers: int, database_url: str, console: bool = False) -> dict[str, float]:
    # The fake runs in its own process, as Telegram runs on its own machines.
    with FakeBotApiProcess() as fake:
        # The rate limiter and the flood gate protect real chats; here they would only hide our own cost.
        settings = settings_for(
            fake.base_url, fake.token, database_url, telegram={"overall_max_rate": 0}, flood={"max_messages": 10**9},
            roles={"staff": [STAFF]}, web={"console": console},
        )  # fmt: skip
        desk = build_desk(settings)
        application = build_application(settings, desk)
        latencies = stamp_handling(application)
        server, poller, spawn = None, None, multiprocessing.get_context("spawn")
        stop, fetched, refused, spent = spawn.Event(), spawn.Value("i", 0), spawn.Value("i", 0), spawn.Value("d", 0.0)
        if console:
            server = await serve_web(web_app(desk, lambda: None, console_routes(desk, settings)), "127.0.0.1", 0)
            port = server.servers[0].sockets[0].getsockname()[1]
            payload = widget_payload(STAFF, token=fake.token)
            poller = spawn.Process(target=poll_console, args=(f"http://127.0.0.1:{port}", payload, stop, fetched,
                                                              refused, spent), daemon=True)  # fmt: skip
            poller.start()
            # Polling from the first message on: wait until the browser has its first page.
            deadline = time.perf_counter() + 30
            while fetched.value + refused.value == 0 and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
        # The production poller (confirms updates only once handled), not PTB's Updater.
        async with polling(application, timeout=1):
            rng = random.Random(7)
            cpu_before = time.process_time()
            begin = time.perf_counter()
            for _ in range(messages):
                fake.push_text(10_000 + rng.randrange(customers), rng.choice(QUESTIONS))
            while len(latencies) < messages:
                await asyncio.sleep(0.01)
            # Replies leave through the outbox after the update is handled: done when Telegram has them all.
            sent = await asyncio.to_thread(fake.count, "sendMessage")
            deadline = time.perf_counter() + 60
            while sent < messages and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)
                sent = await asyncio.to_thread(fake.count, "sendMessage")
            elapsed = time.perf_counter() - begin
            cpu = time.process_time() - cpu_before
        if poller is not None and server is not None:
            stop.set()
            await asyncio.to_thread(poller.join, 10)
            await stop_web(server)
        with desk.store.transaction() as session:
            inbound = session.scalar(sa.select(sa.func.count()).where(Contact.direction == "in"))
            distinct = session.scalar(sa.select(sa.func.count(sa.distinct(Contact.update_id))))
            outbound = session.scalar(sa.select(sa.func.count()).where(Contact.direction == "out"))
        desk.close()
    return {
        "messages": messages,
        "seconds": elapsed,
        "per_second": messages / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "inbound_rows": inbound,
        "distinct_updates": distinct,
        "outbound_rows": outbound,
        "sent": sent,
        "cpu_ms_per_message": cpu / messages * 1000,
        "console_pages": fetched.value,
        "console_refused": refused.value,
        "console_ms": spent.value / fetched.value * 1000 if fetched.value else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help=f"use {POSTGRES_URL} (a fresh schema)")
    parser.add_argument("--console", action="store_true", help="compare: with the web console served and polled")
    parser.add_argument("--rounds", type=int, default=2, help="--console: rounds of (without, with)")
    args = parser.parse_args()
    if args.console:
        return compare(args)
    schema = None
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/crm.sqlite3"
    try:
        result = asyncio.run(run(args.messages, args.customers, url))
    finally:
        if schema:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = "postgresql" if args.postgres else "sqlite"
    print(f"backend={backend} messages={result['messages']} customers={args.customers}")
    print(f"throughput={result['per_second']:.0f} msg/s  total={result['seconds']:.2f} s")
    print(f"handling latency p50={result['p50_ms']:.2f} ms  p99={result['p99_ms']:.2f} ms")
    print(f"bot process CPU per message={result['cpu_ms_per_message']:.2f} ms  peak memory (RSS)={peak_mb:.0f} MB")
    print(
        f"rows: inbound={result['inbound_rows']} distinct update ids={result['distinct_updates']} "
        f"outbound={result['outbound_rows']} replies sent={result['sent']}"
    )
    ok = result["inbound_rows"] == result["distinct_updates"] == result["sent"] == args.messages
    if ok:
        print("check: every message recorded exactly once and answered once")
    else:
        print("CHECK FAILED: rows do not match messages")
    return 0 if ok else 1


def compare(args: argparse.Namespace) -> int:
    """Rounds of the same messages without and with the console served and polled; the ratio of the medians."""
    if args.postgres:
        print("--console runs on SQLite")
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    ok = True
    # A first, uncounted run pays for what only the first pays (imports, the knowledge index, caches).
    asyncio.run(
        run(min(args.messages, 200), args.customers, f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/crm.sqlite3")
    )
    for round_ in range(1, args.rounds + 1):
        # Alternating which goes first (ABBA) spreads any drift of the machine over both alike.
        for console in (False, True) if round_ % 2 else (True, False):
            url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/crm.sqlite3"
            result = asyncio.run(run(args.messages, args.customers, url, console=console))
            runs[console].append(result)
            answered = result["inbound_rows"] == result["distinct_updates"] == result["sent"] == args.messages
            polled = not console or (result["console_pages"] > 0 and result["console_refused"] == 0)
            ok &= answered and polled
            extra = f"  console pages fetched={result['console_pages']} refused={result['console_refused']}"
            extra += f" ({result['console_ms']:.0f} ms a page)"
            print(
                f"round {round_} {'with console' if console else 'bot alone   '}: {result['per_second']:.0f} msg/s"
                f"  p50={result['p50_ms']:.2f} ms  p99={result['p99_ms']:.2f} ms"
                f"  CPU/msg={result['cpu_ms_per_message']:.2f} ms{extra if console else ''}"
                f"  {'all answered' if answered else 'ROWS DO NOT MATCH'}"
            )
    alone, served = ({key: statistics.median(r[key] for r in runs[c]) for key in ("per_second", "p50_ms",
                      "cpu_ms_per_message")} for c in (False, True))  # fmt: skip
    throughput = served["per_second"] / alone["per_second"]
    latency = served["p50_ms"] / alone["p50_ms"]
    cpu = served["cpu_ms_per_message"] / alone["cpu_ms_per_message"]
    within = throughput >= 1 - BUDGET and latency <= 1 + BUDGET
    print(
        f"with/without console (medians of {args.rounds}): throughput ×{throughput:.3f}  p50 latency ×{latency:.3f}"
        f"  CPU per message ×{cpu:.3f}  (budget: {BUDGET:.0%} slower)  {'OK' if within else 'OVER BUDGET'}"
    )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if ok and within else 1


if __name__ == "__main__":
    sys.exit(main())
