"""Web console render times: the queue with 1,000 open tickets and a conversation of 5,000 contacts.

The conversation page shows the newest page of contacts and links to earlier ones; both pages are timed,
and each must hold exactly the contacts it should (they are numbered) with the notes of its stretch.

Run: `.venv/bin/python bench/bench_console.py [--tickets N] [--contacts N] [--runs N]`. Each request goes
through the whole console app (session check, the desk's unit of work, the queries, the template) on
SQLite; p50 and p99 are printed against the 200 ms target, with a check that the page holds the right rows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select
from starlette.testclient import TestClient

from bench.timing import percentile
from crm_store import Store
from crm_store import tags as tag_store
from crm_store.models import Contact, Customer, TagSource, Ticket, TicketEvent
from desk import views
from desk.context import DeskContext
from desk.service import Desk
from knowledge import KnowledgeBase
from tests.conftest import SAMPLE_ENTRIES
from tests.console_harness import STAFF, console_config, widget_payload
from webconsole import console_app

TARGET_MS = 200.0
PAGE = views.HISTORY_PAGE
NOW = datetime.now(UTC)


def fill(store: Store, tickets: int, contacts: int) -> int:
    """`tickets` customers with an open ticket each (every tenth a VIP), and one with `contacts` contacts."""
    with store.transaction() as session:
        session.execute(
            insert(Customer),
            [{"channel": "telegram", "external_id": str(10_000 + n), "display_name": f"客户{n}",
              "first_contact_at": NOW - timedelta(days=30), "last_contact_at": NOW} for n in range(tickets)],
        )  # fmt: skip
        ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
        session.execute(
            insert(Ticket),
            [{"customer_id": cid, "status": "open", "cause": "late_delivery", "priority": "normal",
              "summary": "快递一个星期还没到，我要投诉", "opened_at": NOW - timedelta(hours=n % 30),
              "due_at": NOW + timedelta(hours=12 - n % 30)} for n, cid in enumerate(ids)],
        )  # fmt: skip
        for ticket in session.scalars(select(Ticket)):
            ticket.number = f"T{ticket.id:06d}"
        for cid in ids[::10]:
            tag_store.add_tag(session, cid, tag_store.VIP, source=TagSource.CONFIG, at=NOW)
        talker = ids[0]
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.customer_id == talker))
        rows = []
        for n in range(contacts):
            inbound = n % 2 == 0
            rows.append({
                "customer_id": talker, "at": NOW - timedelta(seconds=(contacts - n) * 30), "channel": "telegram",
                "direction": "in" if inbound else "out", "actor": "customer" if inbound else ("staff" if n % 10 == 1
                else "bot"), "kind": "text",
                # Numbered, so the bench can tell which contacts a page shows.
                "text": f"我的快递到哪了？#{n}" if inbound else f"您的包裹已到达杭州转运中心。#{n}",
                "intent": "answered", "entry_id": None if inbound else "delivery-where", "score": None if inbound
                else 0.82, "ticket_id": ticket_id,
            })  # fmt: skip
        session.execute(insert(Contact), rows)
        session.execute(
            insert(TicketEvent),
            [{"ticket_id": ticket_id, "at": NOW - timedelta(minutes=n), "action": "note", "actor": "staff",
              "actor_user_id": STAFF, "actor_name": "小王", "detail": f"备注 {n}"} for n in range(20)],
        )  # fmt: skip
    return talker


def timed(client: TestClient, path: str, runs: int) -> tuple[list[float], list[float], str]:
    """Wall-clock and CPU milliseconds per request (CPU: every thread of this process, the client's included)."""
    times, cpu, body = [], [], ""
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = client.get(path, headers={"accept": "text/html"})
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert answer.status_code == 200, answer.status_code
        body = answer.text
    return times, cpu, body


def check_page(body: str, numbers: range, notes: int) -> tuple[bool, str, str | None]:
    """The page holds exactly the contacts numbered `numbers` in time order, and `notes` notes; its earlier link."""
    shown = [int(n) for n in re.findall(r"[？。]#(\d+)</div>", body)]
    items = len(re.findall(r'<li class="item ', body))
    earlier = re.search(r'id="earlier" href="([^"]+)"', body)
    ok = shown == list(numbers) and items == len(numbers) + notes
    detail = f"{items} history items, contacts #{shown[0] if shown else '-'}..#{shown[-1] if shown else '-'} (expected "
    detail += f"#{numbers[0]}..#{numbers[-1]} and {notes} notes)" if numbers else "none)"
    return ok, detail, earlier.group(1) if earlier else None


def report(name: str, times: list[float], cpu: list[float], ok: bool, detail: str) -> bool:
    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
    fast = p99 < TARGET_MS
    verdict = "OK" if fast and ok else ("SLOW" if ok else "WRONG ROWS")
    print(
        f"{name:<32} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  (target < {TARGET_MS:.0f} ms)  "
        f"CPU p50 {percentile(cpu, 0.5):6.1f} ms  {detail}  {verdict}"
    )
    return fast and ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000)
    parser.add_argument("--contacts", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'crm.sqlite3'}")
        store.upgrade()
        talker = fill(store, args.tickets, args.contacts)
        desk = Desk(store=store, context=DeskContext(kb=KnowledgeBase.from_entries(SAMPLE_ENTRIES), clock=lambda: NOW))
        try:
            with TestClient(console_app(desk, console_config()), follow_redirects=False) as client:
                assert client.get("/login/telegram", params=widget_payload(STAFF)).status_code == 303
                timed(client, "/queue", 2)  # warm: templates compiled, caches filled
                times, cpu, body = timed(client, "/queue", args.runs)
                numbers = re.findall(r'data-ticket="(T\d+)"', body)
                key_rows = re.findall(r'<tr class="ticket[^"]*"', body)
                vips = args.tickets // 10 + (1 if args.tickets % 10 else 0)
                vip_first = all(" key" in row for row in key_rows[:vips]) and not any(
                    " key" in row for row in key_rows[vips:]
                )
                ok_queue = len(numbers) == args.tickets and len(set(numbers)) == args.tickets and vip_first
                detail = f"{len(numbers)} rows, key customers first: {vip_first}"
                fine = report(f"queue, {args.tickets:,} open tickets", times, cpu, ok_queue, detail)

                # The newest page, then the one before it through its "earlier" link (keyset paging on the id).
                path = f"/customers/{talker}"
                timed(client, path, 2)
                times, cpu, body = timed(client, path, args.runs)
                ok, detail, earlier = check_page(body, range(max(0, args.contacts - PAGE), args.contacts), notes=20)
                fine &= report(f"conversation, {args.contacts:,} contacts", times, cpu, ok, detail)
                if earlier:
                    times, cpu, body = timed(client, f"{path}{earlier}", args.runs)
                    newest = max(0, args.contacts - PAGE)
                    ok, detail, _ = check_page(body, range(max(0, newest - PAGE), newest), notes=0)
                    fine &= report("conversation, the earlier page", times, cpu, ok, detail)
        finally:
            desk.close()
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if fine else 1


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
