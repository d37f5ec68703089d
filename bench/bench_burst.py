"""Benchmark: a complaint burst on a shop's busiest day, with Telegram's group limit enforced.

N complaints arrive at once (each needs a staff topic, the customer's card, a ticket header and the
customer's message in the staff group, which takes about 20 posts a minute), then M ordinary questions
from other customers. Prints, counted from the fake Bot API's side:

- how long the ordinary questions waited for their answer (p50/p99/max) and how many were answered right,
- how long the complaints waited for their acknowledgement,
- how long the staff group took to catch up, the posts it took, and the ratio to the floor its limit allows.

    .venv/bin/python bench/bench_burst.py [--complaints 40] [--questions 40] [--group-rate 20] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

from timing import percentile  # noqa: E402

from app.startup import build_desk  # noqa: E402
from bot import build_application  # noqa: E402
from crm_store.models import OutboxMessage  # noqa: E402
from handlers.polling import polling  # noqa: E402
from tests.bot_harness import settings_for  # noqa: E402
from tests.fake_bot_api import FakeBotApi  # noqa: E402

GROUP, STAFF = -1009090, 900
COMPLAINT = "我要投诉，快递一个星期还没到"
QUESTION, EXPECTED = "怎么退货", "申请售后"
POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _staff_owed(desk) -> int:
    with desk.store.transaction() as session:
        stmt = sa.select(sa.func.count()).where(OutboxMessage.lane == "staff", OutboxMessage.state == "pending")
        return session.scalar(stmt) or 0


async def run(complaints: int, questions: int, group_rate: int, database_url: str) -> None:
    async with FakeBotApi() as fake:
        fake.limit_groups(group_rate)  # what Telegram does past its limit: 429 with retry_after
        settings = settings_for(
            fake.base_url,
            fake.token,
            database_url,
            telegram={"group_max_rate": group_rate},
            roles={"staff": [STAFF]},
            staff_group={"chat_id": GROUP},
        )
        desk = await asyncio.to_thread(build_desk, settings)
        application = build_application(settings, desk)
        try:
            async with polling(application, timeout=1):
                await fake.wait_for("getUpdates")
                pushed: dict[int, float] = {}
                complainers = [70_000 + n for n in range(complaints)]
                askers = [80_000 + n for n in range(questions)]
                start = time.monotonic()
                for chat in complainers:
                    pushed[chat] = time.monotonic()
                    fake.push_text(chat, COMPLAINT)
                for chat in askers:
                    pushed[chat] = time.monotonic()
                    fake.push_text(chat, QUESTION)
                while not all(fake.sent("sendMessage", chat_id=chat) for chat in pushed):
                    await asyncio.sleep(0.02)
                while await asyncio.to_thread(_staff_owed, desk):
                    await asyncio.sleep(0.2)
                caught_up = time.monotonic() - start
                first = {chat: fake.sent("sendMessage", chat_id=chat)[0] for chat in pushed}
                asked = sorted(first[chat].at - pushed[chat] for chat in askers)
                acked = sorted(first[chat].at - pushed[chat] for chat in complainers)
                right = sum(EXPECTED in first[chat].params["text"] for chat in askers)
                group_calls = [c for c in fake.calls if c.params.get("chat_id") == GROUP]
                posts = sum(c.ok for c in group_calls)
                refused = sum(c.status == 429 for c in group_calls)
        finally:
            desk.close()
    # A group takes `group_rate` posts in any minute: post n (from 0) cannot go before minute n // group_rate.
    floor = ((posts - 1) // group_rate) * 60.0
    unjoined = ((4 * complaints - 1) // group_rate) * 60.0
    print(f"complaint burst: {complaints} complaints, then {questions} questions, group limit {group_rate}/min")
    print(
        f"  questions   answered {len(asked)}/{questions}, right {right}/{questions}; waited "
        f"p50 {percentile(asked, 0.5):.2f} s  p99 {percentile(asked, 0.99):.2f} s  max {asked[-1]:.2f} s"
    )
    print(
        f"  complaints  acknowledged {len(acked)}/{complaints}; waited "
        f"p50 {percentile(acked, 0.5):.2f} s  p99 {percentile(acked, 0.99):.2f} s  max {acked[-1]:.2f} s"
    )
    print(
        f"  staff group caught up in {caught_up:.1f} s with {posts} posts ({posts / complaints:.2f} per complaint), "
        f"{refused} refused with 429; floor for these posts {floor:.1f} s (ratio {caught_up / max(floor, 1e-9):.2f}); "
        f"four posts per complaint would need {unjoined:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=40)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--group-rate", type=int, default=20, help="posts per minute into one group")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of a temporary SQLite file")
    args = parser.parse_args()
    schema = None
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(POSTGRES_URL).begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        asyncio.run(run(args.complaints, args.questions, args.group_rate, url))
    finally:
        if schema:
            with sa.create_engine(POSTGRES_URL).begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
