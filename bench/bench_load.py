"""Load: many customers at once, some complaining, staff answering in their topics, through the real Application,
the desk, the store and the fake Bot API (in its own process).

Prints throughput, p50/p99 handling latency and three checks: every inbound update recorded exactly once, every
complaint has a ticket, and each chat's replies came in the order of its messages.

    .venv/bin/python bench/bench_load.py [--customers 200] [--messages 50] [--complainers 20] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

from timing import percentile, stamp_handling  # noqa: E402

from app.config import Settings  # noqa: E402
from app.startup import build_desk  # noqa: E402
from bot import build_application  # noqa: E402
from crm_store import Contact, Customer  # noqa: E402
from crm_store.models import Ticket  # noqa: E402
from handlers.polling import polling  # noqa: E402
from tests.bot_harness import settings_for  # noqa: E402
from tests.fake_bot_api import FakeBotApiProcess  # noqa: E402

QUESTIONS = [
    "怎么退货", "退款多久到账", "怎么开发票", "门店几点开门", "积分怎么用", "可以货到付款吗", "保修期多久",
    "how do I return an item", "你好", "谢谢", "我想改一下收货地址", "优惠券用不了",
]  # fmt: skip
COMPLAINT = "我要投诉，快递一个星期还没到"
GROUP, STAFF = -1001000, 900
FIRST_CUSTOMER = 20_000
POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def message_for(customer: int, index: int, complainers: int, complain_at: int) -> str:
    if customer < complainers and index == complain_at:
        return COMPLAINT
    return QUESTIONS[(customer * 7 + index) % len(QUESTIONS)]


async def run(customers: int, messages: int, complainers: int, database_url: str) -> dict[str, object]:
    with FakeBotApiProcess() as fake:
        sections: dict = {
            "telegram": {"overall_max_rate": 0},  # measure our throughput, not Telegram's 30 msg/s cap
            "roles": {"staff": [STAFF]},
            "staff_group": {"chat_id": GROUP},
        }
        if "flood" in Settings.model_fields:  # fifty messages in a burst is this benchmark's load, not abuse
            sections["flood"] = {"max_messages": messages * 2}
        settings = settings_for(fake.base_url, fake.token, database_url, **sections)
        desk = build_desk(settings)
        application = build_application(settings, desk)
        latencies = stamp_handling(application)
        # The production poller (confirms updates only once handled), not PTB's Updater.
        async with polling(application, timeout=1):
            complain_at = min(5, messages - 1)
            topics: dict[int, int] = {}
            staff_replies = 0
            updates = 0
            cpu_before, begin = time.process_time(), time.perf_counter()
            for index in range(messages):
                for customer in range(customers):
                    text = message_for(customer, index, complainers, complain_at)
                    await asyncio.to_thread(fake.push_text, FIRST_CUSTOMER + customer, text)
                    updates += 1
                if index > complain_at and index % 5 == 0:
                    # Staff answer in every topic that exists by now, while customers keep writing.
                    copies = await asyncio.to_thread(fake.call, "sent", "copyMessage", chat_id=GROUP)
                    topics.update({c.params["from_chat_id"]: c.params["message_thread_id"] for c in copies})
                    for thread in topics.values():
                        await asyncio.to_thread(
                            fake.push_text, STAFF, f"您好，我们正在处理（第 {index} 轮）", chat_id=GROUP,
                            message_thread_id=thread,
                        )  # fmt: skip
                        staff_replies += 1
                        updates += 1
                await asyncio.sleep(0)
            while len(latencies) < updates:
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - begin
            cpu = time.process_time() - cpu_before
            sent = await asyncio.to_thread(fake.call, "sent", "sendMessage")
            copies = await asyncio.to_thread(fake.call, "sent", "copyMessage")
            relayed_to_customers = sum(c.params["chat_id"] > 0 for c in copies)
        checks = _checks(desk.store, sent, customers, messages, complainers)
        desk.close()
    return {
        "updates": updates,
        "staff_replies": staff_replies,
        "copies": relayed_to_customers,
        "seconds": elapsed,
        "per_second": updates / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "cpu_ms_per_update": cpu / updates * 1000,
        **checks,
    }


def _checks(store, sent: list, customers: int, messages: int, complainers: int) -> dict[str, object]:
    """Exactly once, a ticket per complaint, per-chat order: read from the store and from what was sent."""
    with store.transaction() as session:
        inbound = session.execute(
            sa.select(Contact.id, Contact.update_id, Contact.chat_id, Contact.message_id, Contact.intent)
            .where(Contact.direction == "in")
            .order_by(Contact.chat_id, Contact.message_id)
        ).all()
        answers = dict(
            session.execute(sa.select(Contact.reply_to_id, Contact.text).where(Contact.reply_to_id.is_not(None))).all()
        )
        ticketed = set(
            session.scalars(sa.select(Customer.external_id).join(Ticket, Ticket.customer_id == Customer.id)).all()
        )
        complained = set(
            session.scalars(
                sa.select(Customer.external_id).join(Contact, Contact.customer_id == Customer.id)
                .where(Contact.intent == "complaint")
            ).all()
        )  # fmt: skip
    update_ids = [row.update_id for row in inbound]
    exactly_once = len(update_ids) == len(set(update_ids)) == customers * messages
    expected_complainers = {str(FIRST_CUSTOMER + c) for c in range(complainers)}
    every_complaint_ticketed = complained == expected_complainers and complained <= ticketed
    # Each chat's replies, in the order they were sent, against the answers recorded for its messages in order.
    expected: dict[int, list[str]] = defaultdict(list)
    for row in inbound:
        if row.id in answers:
            expected[row.chat_id].append(answers[row.id])
    actual: dict[int, list[str]] = defaultdict(list)
    for call in sent:
        if call.params.get("chat_id", 0) > 0:
            actual[call.params["chat_id"]].append(html.unescape(call.params["text"]))
    out_of_order = [chat for chat in expected if expected[chat] != actual.get(chat)]
    return {
        "inbound_rows": len(update_ids),
        "distinct_updates": len(set(update_ids)),
        "exactly_once": exactly_once,
        "complainers": len(complained),
        "tickets_for_complainers": len(complained & ticketed),
        "every_complaint_ticketed": every_complaint_ticketed,
        "chats_checked": len(expected),
        "chats_out_of_order": len(out_of_order),
        "order_kept": not out_of_order and len(expected) == customers,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50, help="messages per customer")
    parser.add_argument("--complainers", type=int, default=20, help="customers who complain (on message 6)")
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
        r = asyncio.run(run(args.customers, args.messages, min(args.complainers, args.customers), url))
    finally:
        if schema:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    backend = "postgresql" if args.postgres else "sqlite"
    print(
        f"backend={backend} customers={args.customers} messages/customer={args.messages} "
        f"complainers={r['complainers']} staff replies={r['staff_replies']} (copied to customers: {r['copies']})"
    )
    print(f"throughput={r['per_second']:.0f} updates/s  total={r['updates']} updates in {r['seconds']:.2f} s")
    latency = f"handling latency p50={r['p50_ms']:.2f} ms  p99={r['p99_ms']:.2f} ms"
    print(f"{latency}  bot CPU per update={r['cpu_ms_per_update']:.2f} ms")
    print(f"check exactly once: inbound rows={r['inbound_rows']} distinct update ids={r['distinct_updates']}",
          "OK" if r["exactly_once"] else "FAILED")  # fmt: skip
    print(f"check complaints: {r['tickets_for_complainers']}/{r['complainers']} complainers have a ticket",
          "OK" if r["every_complaint_ticketed"] else "FAILED")  # fmt: skip
    print(f"check order: {r['chats_checked']} chats, {r['chats_out_of_order']} with replies out of order",
          "OK" if r["order_kept"] else "FAILED")  # fmt: skip
    return 0 if r["exactly_once"] and r["every_complaint_ticketed"] and r["order_kept"] else 1


if __name__ == "__main__":
    sys.exit(main())
