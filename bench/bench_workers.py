"""Benchmark: webhook updates through 1, 2 and 4 worker processes on one PostgreSQL.

Real bot.py processes in webhook mode, each on its own port; this script plays Telegram and the load
balancer (updates posted round-robin, each chat's next message after the previous one was accepted, as
Telegram does for one chat). Prints per worker count, counted from the fake Bot API's side:

- throughput (updates per second, first post to last reply) and the ratio to one worker,
- p50/p99 of the webhook's answer (the update recorded) and of the customer's reply arriving,
- quality: every update recorded once, each chat's contacts in order, every reply the same text one
  worker gave for that question.

    .venv/bin/python bench/bench_workers.py [--workers 1 2 4] [--chats 100] [--per-chat 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

from tests.fake_bot_api import FakeBotApi  # noqa: E402
from tests.workers import Delivery, rows, start_workers, stop_workers, worker_env  # noqa: E402

QUESTIONS = ["怎么退货", "退款多久到账", "怎么开发票", "门店几点开门", "运费怎么算", "可以开发票吗"]
POSTGRES = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(count: int, chats: int, per_chat: int, folder: Path) -> dict:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    try:
        async with FakeBotApi() as fake:
            workers = await start_workers(count, worker_env(fake, url), folder, fake)
            delivery = Delivery(workers)
            ids = [90_000 + n for n in range(chats)]
            pushed: dict[int, list[tuple[int, str, float, float]]] = {chat: [] for chat in ids}

            async def customer(chat: int) -> None:
                for k in range(per_chat):
                    text = QUESTIONS[(chat + k) % len(QUESTIONS)]
                    update = fake.push_text(chat, text)
                    started = time.monotonic()
                    await delivery.post(update)
                    pushed[chat].append((update["update_id"], text, started, time.monotonic()))

            began = time.monotonic()
            try:
                await asyncio.gather(*(customer(chat) for chat in ids))
                deadline = time.monotonic() + 120
                while any(len(fake.sent("sendMessage", chat_id=c)) < per_chat for c in ids):
                    if time.monotonic() > deadline:
                        raise SystemExit("bench: replies missing after 120 s")
                    await asyncio.sleep(0.05)
            finally:
                await delivery.close()
                await stop_workers(workers)
            replies = {c: fake.sent("sendMessage", chat_id=c) for c in ids}
        finished = max(call.at for calls in replies.values() for call in calls)
        accepted = [done - started for sent in pushed.values() for _, _, started, done in sent]
        answered = [replies[c][k].at - pushed[c][k][2] for c in ids for k in range(per_chat) if k < len(replies[c])]
        recorded = [r[0] for r in rows(url, "select update_id from contacts where direction = 'in' order by id")]
        in_order = all(
            [u for u in recorded if u in {p[0] for p in sent}] == [p[0] for p in sent] for sent in pushed.values()
        )
        said = {(pushed[c][k][1], replies[c][k].params["text"]) for c in ids for k in range(per_chat)}
        total = chats * per_chat
        return {
            "workers": count,
            "updates": total,
            "per_second": total / (finished - began),
            "accepted_p50": statistics.median(accepted),
            "accepted_p99": percentile(accepted, 0.99),
            "answered_p50": statistics.median(answered),
            "answered_p99": percentile(answered, 0.99),
            "recorded_once": sorted(recorded) == sorted(p[0] for sent in pushed.values() for p in sent),
            "in_order": in_order,
            "answers": said,
            "extra_replies": sum(len(calls) for calls in replies.values()) - total,
        }
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--per-chat", type=int, default=10)
    args = parser.parse_args()
    print(
        f"workers bench: {args.chats} chats x {args.per_chat} updates, webhook mode, PostgreSQL, {os.cpu_count()} cores"
    )
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for count in args.workers:
            own = Path(folder) / f"w{count}"
            own.mkdir()
            results.append(await run(count, args.chats, args.per_chat, own))
    baseline = results[0]
    reference = dict(baseline["answers"])
    for result in results:
        same = all(reference.get(question) == text for question, text in result["answers"])
        ratio = result["per_second"] / baseline["per_second"]
        print(
            f"  {result['workers']} worker(s): {result['per_second']:7.1f} updates/s "
            f"(x{ratio:.2f}); recorded p50 {result['accepted_p50'] * 1000:.0f} ms "
            f"p99 {result['accepted_p99'] * 1000:.0f} ms; answered p50 {result['answered_p50'] * 1000:.0f} ms "
            f"p99 {result['answered_p99'] * 1000:.0f} ms; recorded once: {result['recorded_once']}, "
            f"in order: {result['in_order']}, answers as one worker's: {same}, extra replies: {result['extra_replies']}"
        )


if __name__ == "__main__":
    asyncio.run(main())
