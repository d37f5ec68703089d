"""Benchmark: /search over a million contacts, through the store's text index, speed next to quality.

Builds (once, then reuses) a store with N contacts from M customers: Chinese questions and complaints,
staff answers and English messages, a year of them, with a few rare phrases planted at known rows. Then
runs each query several times through `crm_store.search.search_contacts` (what /search calls) and prints
p50/p99 per query, next to whether the hits were right: the newest 20 rows that contain every term,
exactly, as worked out while the rows were generated.

    .venv/bin/python bench/bench_search.py [--contacts 1000000] [--db FILE] [--postgres] [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crm_store import Store  # noqa: E402
from crm_store.models import Contact, Customer  # noqa: E402
from crm_store.search import search_contacts  # noqa: E402

POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LIMIT = 20
START = datetime(2025, 12, 1, tzinfo=UTC)
PRODUCTS = ["蓝牙耳机", "保温杯", "电饭煲", "运动鞋", "羽绒服", "扫地机器人", "洗发水", "手机壳", "台灯", "行李箱"]
ASKS = [
    "{p}什么时候发货",
    "{p}的退款还没到账",
    "我想退货，{p}有质量问题",
    "怎么开发票",
    "{p}坏了能换吗",
    "订单 {n} 的快递一直没到",
    "你们太差了，{p}掉色",
    "会员积分怎么用",
    "门店几点开门",
    "{p}的价格怎么又变了",
]
ANSWERS = [
    "您好，退款原路退回，一般 1–7 个工作日到账。",
    "已为您登记，{p}会在 48 小时内补发。",
    "非常抱歉，订单 {n} 已催促快递，请留意物流信息。",
    "在订单详情页点击「申请发票」即可。",
]
ENGLISH = ["Where is my refund for order {n}?", "The {e} arrived broken", "ok thanks", "How do I return the {e}?"]
ENGLISH_PRODUCTS = ["headphones", "kettle", "backpack", "lamp", "Phone case"]
# Rare phrases planted at known rows: exact answers for the rarest queries.
PLANTED = {"紫罗兰色保温杯": 7, "Zanzibar": 5, "琥珀": 3}
QUERIES = [
    ["退款"],
    ["耳机"],
    ["退"],
    ["蓝牙耳机"],
    ["还没到账"],
    ["退款", "耳机"],
    ["质量问题", "退货"],
    ["refund"],
    ["REFUND"],
    ["ok"],
    ["headphones"],
    ["紫罗兰色保温杯"],
    ["zanzibar"],
    ["扫地机器人", "掉色"],
    ["琥珀"],
    ["没有这个词语啊"],
]


def make_text(rng: random.Random, number: int) -> tuple[str, str]:
    roll = rng.random()
    values = {"p": rng.choice(PRODUCTS), "n": f"{rng.randrange(10**8, 10**9)}", "e": rng.choice(ENGLISH_PRODUCTS)}
    if roll < 0.6:
        return "in", rng.choice(ASKS).format(**values)
    if roll < 0.9:
        return "out", rng.choice(ANSWERS).format(**values)
    return "in", rng.choice(ENGLISH).format(**values)


def build(store: Store, contacts: int, customers: int) -> list[str]:
    rng = random.Random(19)
    texts: list[str] = []
    planted_rows = {phrase: set(rng.sample(range(contacts), count)) for phrase, count in PLANTED.items()}
    with store.transaction() as session:
        session.execute(
            sa.insert(Customer),
            [
                {"channel": "telegram", "external_id": str(10_000 + n), "display_name": f"客户{n}",
                 "first_contact_at": START, "last_contact_at": START}
                for n in range(customers)
            ],
        )  # fmt: skip
        first_customer = session.scalar(sa.select(sa.func.min(Customer.id)))
    step = timedelta(days=365) / contacts
    batch: list[dict] = []
    for row in range(contacts):
        direction, text = make_text(rng, row)
        for phrase, rows in planted_rows.items():
            if row in rows:
                text = f"{text}，{phrase}"
        texts.append(text)
        batch.append(
            {"customer_id": first_customer + rng.randrange(customers), "at": START + step * row, "channel": "telegram",
             "direction": direction, "actor": "customer" if direction == "in" else "staff", "kind": "text",
             "text": text}
        )  # fmt: skip
        if len(batch) == 20_000:
            with store.transaction() as session:
                session.execute(sa.insert(Contact), batch)
            batch.clear()
            print(f"\r  {row + 1:,} contacts", end="", flush=True)
    if batch:
        with store.transaction() as session:
            session.execute(sa.insert(Contact), batch)
    print()
    return texts


def expected(texts: list[str], terms: list[str], first_id: int) -> list[int]:
    """The newest LIMIT rows that contain every term (ids grow with time here), case-insensitively."""
    folded = [term.lower() for term in terms]
    found = []
    for row in range(len(texts) - 1, -1, -1):
        lowered = texts[row].lower()
        if all(term in lowered for term in folded):
            found.append(first_id + row)
            if len(found) == LIMIT:
                break
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--db", type=Path, help="SQLite file to build or reuse (default: in the temp folder)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (schema bench_search, reused)")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if args.postgres:
        separator = "&" if "?" in POSTGRES_URL else "?"
        admin = sa.create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(sa.text("CREATE SCHEMA IF NOT EXISTS bench_search"))
        url = f"{POSTGRES_URL}{separator}options=-csearch_path%3Dbench_search"
    else:
        db = args.db or Path(tempfile.gettempdir()) / f"bench_search_{args.contacts}.sqlite3"
        url = f"sqlite:///{db}"
    store = Store(url)
    store.upgrade()
    with store.transaction() as session:
        have = session.scalar(sa.select(sa.func.count()).select_from(Contact))
    if have == 0:
        started = time.perf_counter()
        print(f"building {args.contacts:,} contacts ({store.engine.dialect.name}) …")
        texts = build(store, args.contacts, args.customers)
        if args.postgres:
            with store.engine.begin() as connection:
                connection.execute(sa.text("ANALYZE contacts"))
        print(f"built in {time.perf_counter() - started:.0f} s")
    elif have != args.contacts:
        raise SystemExit(f"{url} holds {have:,} contacts, not {args.contacts:,}: remove it or pass --db")
    else:
        # The texts as stored, in id order (what `expected` scans): a reused store is checked against itself.
        with store.transaction() as session:
            texts = list(session.scalars(sa.select(Contact.text).order_by(Contact.id)))
    with store.transaction() as session:
        first_id = session.scalar(sa.select(sa.func.min(Contact.id)))
    print(f"{store.engine.dialect.name}, {args.contacts:,} contacts, {args.runs} runs per query, newest {LIMIT}")
    print(f"{'query':<24} {'p50 ms':>8} {'p99 ms':>8} {'hits':>5}  right")
    all_right = True
    for terms in QUERIES:
        want = expected(texts, terms, first_id)
        timings = []
        got: list[int] = []
        for _ in range(args.runs):
            with store.transaction() as session:
                started = time.perf_counter()
                hits = search_contacts(session, terms, limit=LIMIT)
                timings.append((time.perf_counter() - started) * 1000)
            got = [hit.contact_id for hit in hits]
        right = got == want
        all_right &= right
        label = " ".join(terms)
        p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
        print(f"{label:<24} {p50:8.1f} {p99:8.1f} {len(got):5d}  {'yes' if right else 'NO'}")
    print("all hits right" if all_right else "SOME HITS WRONG")
    store.close()


if __name__ == "__main__":
    main()
