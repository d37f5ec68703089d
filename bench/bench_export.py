"""Log export and report speed and memory over 100,000 contacts, on SQLite and (with --postgres) PostgreSQL.

Run: `.venv/bin/python bench/bench_export.py [--rows N] [--postgres]`. The contacts are generated once per
backend; each export then runs in a fresh process, so its peak memory (ru_maxrss) is the export's alone.
Streaming means the peak should stay flat as --rows grows; compare --rows 20000 with the default.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text

from crm_store import Store
from crm_store.models import Contact, Customer

POSTGRES_URL = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 11, 16, tzinfo=UTC)
DAYS = 30
QUESTIONS = ["怎么退货", "退款多久到账？", "我的快递到哪了", "怎么开发票", "门店几点开门", "会员积分怎么用",
             "How do I return an item?", "能便宜点吗", "发错货了，我要投诉", "转人工"]  # fmt: skip
ANSWERS = ["在「我的订单」中点击「申请售后」→「退货」，审核通过后寄回商品即可。",
           "退款原路退回，一般 1–7 个工作日到账。", "抱歉，我没有找到答案，已为您转人工客服。",
           "您好，我是客服小王，马上为您处理。"]  # fmt: skip


def generate(url: str, rows: int) -> None:
    """`rows` contacts from 2,000 customers over 30 days: customer questions, bot answers, some staff replies."""
    store = Store(url)
    store.upgrade()
    rng = random.Random(7)
    start = END - timedelta(days=DAYS)
    with store.transaction() as session:
        customers = [
            {"channel": "telegram", "external_id": str(10_000 + n), "display_name": f"客户{n}",
             "username": f"user{n}" if n % 3 else None, "first_contact_at": start, "last_contact_at": END}
            for n in range(2_000)
        ]  # fmt: skip
        session.execute(insert(Customer), customers)
        ids = list(session.scalars(text("SELECT id FROM customers")))
        batch = []
        for n in range(rows):
            at = start + timedelta(seconds=rng.uniform(0, DAYS * 86_400))
            inbound = n % 2 == 0
            staff = not inbound and rng.random() < 0.1
            batch.append({
                "customer_id": rng.choice(ids), "at": at, "channel": "telegram",
                "direction": "in" if inbound else "out",
                "actor": "customer" if inbound else ("staff" if staff else "bot"), "kind": "text",
                "text": rng.choice(QUESTIONS if inbound else ANSWERS), "intent": rng.choice(("answered", "no_answer")),
                "entry_id": "return-how", "score": round(rng.random(), 3), "wait_ms": None if inbound else 900,
                "handling_ms": None if inbound else 35, "staff_name": "王客服" if staff else None,
            })  # fmt: skip
            if len(batch) == 5_000:
                session.execute(insert(Contact), batch)
                batch = []
        if batch:
            session.execute(insert(Contact), batch)
    store.close()


def run_one(url: str, what: str, folder: str) -> None:
    """One export (csv, xlsx) or report in this fresh process; prints seconds, rows and peak RSS as JSON."""
    from reports import Requester, export_logs, make_report, parse_log_args, parse_period

    store = Store(url)
    requester = Requester("cli", name="bench")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if what == "report":
        period = parse_period("2026-10-01..2026-11-30", ZONE)
        report = make_report(store, period, folder=Path(folder) / "report", requester=requester)
        rows, size = report.data.customer_messages + report.data.bot_replies + report.data.staff_replies, 0
    else:
        log_filter = parse_log_args(["2026-10-01..2026-11-30", f"format={what}"], ZONE)
        export = export_logs(store, log_filter, zone=ZONE, folder=Path(folder), requester=requester)
        rows, size = export.rows, export.path.stat().st_size
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store.close()
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_kb": peak, "baseline_kb": baseline, "bytes": size}))


def measure(url: str, label: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("csv", "xlsx", "report"):
            out = subprocess.run(
                [sys.executable, __file__, "--run-one", fmt, "--url", url, "--folder", folder],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            r = json.loads(out.splitlines()[-1])
            rate = r["rows"] / r["seconds"]
            print(
                f"{label:<10} {fmt:<6} {r['rows']:>8,} rows {r['seconds']:7.2f} s {rate:>9,.0f} rows/s"
                f"  peak RSS {r['peak_kb'] / 1024:6.1f} MB (after imports {r['baseline_kb'] / 1024:5.1f} MB)"
                f"  file {r['bytes'] / 1e6:5.1f} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="also measure PostgreSQL (DESK_TEST_POSTGRES_URL)")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(args.url, args.run_one, args.folder)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        started = time.perf_counter()
        generate(url, args.rows)
        print(f"sqlite: generated {args.rows:,} contacts in {time.perf_counter() - started:.1f} s")
        measure(url, "sqlite")
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in POSTGRES_URL else "?"
        url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
        try:
            started = time.perf_counter()
            generate(url, args.rows)
            print(f"postgres: generated {args.rows:,} contacts in {time.perf_counter() - started:.1f} s")
            measure(url, "postgres")
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
