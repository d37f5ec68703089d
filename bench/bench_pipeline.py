"""Benchmark: N customer messages through the real Application, the desk, the store and the fake Bot API.

Prints messages/s, CPU per message, p50/p99 handling latency (update in → reply sent and recorded) and
peak memory, then checks that every message was recorded once and answered once. The same messages go
through a bare python-telegram-bot bot (bench/minimal_bot.py: one INSERT, one sendMessage) in the same
run, each against its own fake Bot API, and the figures are printed as ratios to it. With --rounds N the
two take turns N times and the medians are printed (the machine's load changes less between turns).

With `--console`, our bot runs instead with and without the web console served by its own web server (in
its process and event loop, as in production) while a browser-like client in another process signs in and
fetches the queue page every second; the turns alternate (without/with, then with/without) and the ratio of
the medians is printed against the 5 % budget.

    .venv/bin/python bench/bench_pipeline.py --messages 5000 [--postgres] [--customers 200] [--rounds 3]
    .venv/bin/python bench/bench_pipeline.py --messages 2000 --console [--rounds 4]
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

from minimal_bot import run_minimal_bot  # noqa: E402
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
# The performance issue's targets for our bot on SQLite, every record written.
CPU_TARGET_MS = 3.2
THROUGHPUT_TARGET = 0.6
POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def chats_for(messages: int, customers: int) -> list[tuple[int, str]]:
    """The same customers and questions for both bots."""
    rng = random.Random(7)
    return [(10_000 + rng.randrange(customers), rng.choice(QUESTIONS)) for _ in range(messages)]


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


async def run(chats: list[tuple[int, str]], database_url: str, console: bool = False) -> dict[str, float]:
    messages = len(chats)
    # The fake runs in its own process, as Telegram runs on its own machines.
    with FakeBotApiProcess() as fake:
        # The rate limiter and the flood gate protect real chats; here they would only hide our own cost.
        settings = settings_for(
            fake.base_url, fake.token, database_url, telegram={"overall_max_rate": 0}, flood={"max_messages": 10**9},
            roles={"staff": [STAFF]}, web={"console": console},
        )  # fmt: skip
        desk = build_desk(settings)
        # The steady state is measured: the semantic stage's start-up (its model, the passages read from the
        # cache) runs in a background thread and would otherwise be counted as the first messages' CPU.
        stage = desk.context.kb.matcher.semantic
        semantic = stage is not None and await asyncio.to_thread(stage.wait, 300)
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
            cpu_before = time.process_time()
            begin = time.perf_counter()
            for user_id, text in chats:
                fake.push_text(user_id, text)
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
        "semantic": float(semantic),
    }


async def run_baseline(chats: list[tuple[int, str]]) -> dict[str, float]:
    with FakeBotApiProcess() as fake:
        raw = await run_minimal_bot(fake, chats, f"{tempfile.mkdtemp(prefix='bench-minimal-')}/minimal.sqlite3")
    messages = len(chats)
    return {
        "messages": messages,
        "seconds": raw["seconds"],
        "per_second": messages / raw["seconds"],
        "p50_ms": statistics.median(raw["latencies"]) * 1000,
        "p99_ms": percentile(raw["latencies"], 0.99) * 1000,
        "rows": raw["rows"],
        "sent": raw["sent"],
        "cpu_ms_per_message": raw["cpu"] / messages * 1000,
    }


def run_ours(chats: list[tuple[int, str]], postgres: bool) -> dict[str, float]:
    """Our bot on a fresh store (a new SQLite file, or a new PostgreSQL schema dropped afterwards)."""
    if not postgres:
        return asyncio.run(run(chats, f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/crm.sqlite3"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        return asyncio.run(run(chats, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"))
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def median_of(results: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(result[key] for result in results) for key in results[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help=f"use {POSTGRES_URL} (a fresh schema)")
    parser.add_argument("--rounds", type=int, default=1, help="turns of baseline then ours; medians are printed")
    parser.add_argument(
        "--console", action="store_true", help="ours with the web console served and polled, and without"
    )
    args = parser.parse_args()
    if args.console:
        return compare(args)
    chats = chats_for(args.messages, args.customers)
    ours: list[dict[str, float]] = []
    baseline: list[dict[str, float]] = []
    ok = True
    for _ in range(args.rounds):
        baseline.append(asyncio.run(run_baseline(chats)))
        ours.append(run_ours(chats, args.postgres))
        mine, bare = ours[-1], baseline[-1]
        ok = ok and mine["inbound_rows"] == mine["distinct_updates"] == mine["sent"] == args.messages
        ok = ok and bare["rows"] == bare["sent"] == args.messages
    result, base = median_of(ours), median_of(baseline)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = "postgresql" if args.postgres else "sqlite"
    stage = "on" if result["semantic"] else "off (lexical only)"
    print(f"backend={backend} messages={args.messages} customers={args.customers} rounds={args.rounds}", end=" ")
    print(f"semantic={stage}")
    print(f"{'':10} {'msg/s':>7} {'CPU ms/msg':>11} {'p50 ms':>8} {'p99 ms':>8}")
    for name, figures in (("ours", result), ("baseline", base)):
        print(
            f"{name:10} {figures['per_second']:7.0f} {figures['cpu_ms_per_message']:11.2f} "
            f"{figures['p50_ms']:8.2f} {figures['p99_ms']:8.2f}"
        )
    print(
        f"ours / baseline: throughput {result['per_second'] / base['per_second']:.2f}x  "
        f"CPU per message {result['cpu_ms_per_message'] / base['cpu_ms_per_message']:.2f}x  "
        f"p50 {result['p50_ms'] / base['p50_ms']:.2f}x"
    )
    cpu, ratio = result["cpu_ms_per_message"], result["per_second"] / base["per_second"]
    cpu_met, ratio_met = cpu <= CPU_TARGET_MS, ratio >= THROUGHPUT_TARGET
    print(
        f"targets (SQLite): CPU per message {cpu:.2f} <= {CPU_TARGET_MS} ms {'OK' if cpu_met else 'MISSED'}  "
        f"throughput {ratio:.2f}x >= {THROUGHPUT_TARGET}x the bare bot's {'OK' if ratio_met else 'MISSED'}"
    )
    print(f"peak memory (RSS)={peak_mb:.0f} MB")
    print(
        f"rows (median): inbound={result['inbound_rows']:.0f} distinct update ids={result['distinct_updates']:.0f} "
        f"outbound={result['outbound_rows']:.0f} replies sent={result['sent']:.0f}; "
        f"baseline rows={base['rows']:.0f} replies sent={base['sent']:.0f}"
    )
    if ok:
        print("check: every message recorded exactly once and answered once, by both bots, in every round")
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
    chats = chats_for(args.messages, args.customers)
    asyncio.run(run(chats[:200], f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/crm.sqlite3"))
    for round_ in range(1, args.rounds + 1):
        # Alternating which goes first (ABBA) spreads any drift of the machine over both alike.
        for console in (False, True) if round_ % 2 else (True, False):
            url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/crm.sqlite3"
            result = asyncio.run(run(chats, url, console=console))
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
