"""Benchmark: N customer messages through the real Application, the desk, the store and the fake Bot API.

Prints messages/s, p50/p99 handling latency (update in → reply sent and recorded) and peak memory,
then checks that every message was recorded once and answered once.

    .venv/bin/python bench/bench_pipeline.py --messages 5000 [--postgres] [--customers 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

from timing import percentile, stamp_handling  # noqa: E402

from app.startup import build_desk  # noqa: E402
from bot import build_application  # noqa: E402
from crm_store import Contact  # noqa: E402
from handlers.polling import polling  # noqa: E402
from tests.bot_harness import settings_for  # noqa: E402
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
POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


async def run(messages: int, customers: int, database_url: str) -> dict[str, float]:
    # The fake runs in its own process, as Telegram runs on its own machines.
    with FakeBotApiProcess() as fake:
        # The rate limiter and the flood gate protect real chats; here they would only hide our own cost.
        settings = settings_for(
            fake.base_url, fake.token, database_url, telegram={"overall_max_rate": 0}, flood={"max_messages": 10**9}
        )
        desk = build_desk(settings)
        application = build_application(settings, desk)
        latencies = stamp_handling(application)
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
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help=f"use {POSTGRES_URL} (a fresh schema)")
    args = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
