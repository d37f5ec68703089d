"""Several workers on one PostgreSQL, in webhook mode: real bot.py processes, counted at the fake Bot API.

- two first messages of one customer arriving at two workers at once make one ticket and one topic;
- one of two workers killed mid-load (the one sending): every update recorded once and in order, every
  customer answered once, and the deadline reminders go on, once each, from the other worker;
- SQLite serves one process: a second bot on the same file is refused with a message saying why.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.fake_bot_api import FakeBotApi
from tests.test_process import _env
from tests.workers import GROUP, ROOT, Delivery, rows, start_workers, stop_workers, worker_env

COMPLAINT = "我要投诉，快递一个星期还没到"
QUESTIONS = ["怎么退货", "退款多久到账", "怎么开发票", "门店几点开门"]
REMINDER = "⏰ 提醒"


async def _until(check, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


def _group_texts(fake: FakeBotApi, marker: str) -> list[str]:
    return [
        c.params.get("text", "") for c in fake.sent("sendMessage", chat_id=GROUP) if marker in c.params.get("text", "")
    ]


async def test_two_first_messages_at_two_workers_make_one_topic(tmp_path: Path, postgres_url: str) -> None:
    async with FakeBotApi() as fake:
        workers = await start_workers(2, worker_env(fake, postgres_url), tmp_path, fake)
        delivery = Delivery(workers)
        try:
            first = fake.push_text(7001, COMPLAINT, first_name="王芳")
            second = fake.push_text(7001, "转人工", first_name="王芳")
            taken = await asyncio.gather(delivery.post(first, first=0), delivery.post(second, first=1))
            assert sorted(taken) == [0, 1]  # each worker took one
            await fake.wait_for("sendMessage", chat_id=7001, timeout=30)
            await fake.wait_for("createForumTopic", timeout=30)
            owed = "select count(*) from outbox where state = 'pending'"
            await _until(lambda: rows(postgres_url, owed) == [(0,)], timeout=30)
            await asyncio.sleep(2)  # room for a second topic, if one were coming
        finally:
            await delivery.close()
            await stop_workers(workers)
        topics = fake.sent("createForumTopic")
    assert len(topics) == 1, [t.params for t in topics]
    assert rows(postgres_url, "select count(*) from customers") == [(1,)]
    assert rows(postgres_url, "select count(*) from tickets") == [(1,)]
    assert rows(postgres_url, "select count(*) from staff_topics") == [(1,)]


def _text(payload: object) -> str:
    return (json.loads(payload) if isinstance(payload, str) else payload)["text"]


def owed_replies(chat: int) -> int:
    """An answer per question; a complaint gets its acknowledgement, and what follows goes to staff."""
    return 1 if chat % 4 == 0 else len(QUESTIONS[:3])


async def test_killing_the_sending_worker_loses_nothing_and_reminders_go_on(tmp_path: Path, postgres_url: str) -> None:
    chats = [80_000 + n for n in range(40)]
    script = {chat: ([COMPLAINT] if chat % 4 == 0 else []) + QUESTIONS[: 3 if chat % 4 else 2] for chat in chats}
    total = sum(len(texts) for texts in script.values())
    async with FakeBotApi() as fake:
        # Every complaint's deadline falls within the reminder window: its reminder is due at the first sweep.
        env = worker_env(
            fake,
            postgres_url,
            DESK_SLA__OTHER_HOURS="1",
            DESK_SLA__HOME_HOURS="1",
            DESK_SLA__REMIND_BEFORE_MINUTES="120",
            DESK_SLA__CHECK_SECONDS="1",
        )
        workers = await start_workers(2, env, tmp_path, fake)
        delivery = Delivery(workers)
        pushed: dict[int, list[int]] = {chat: [] for chat in chats}
        posted = posted_at_kill = 0
        killed_at: float | None = None

        async def customer(chat: int) -> None:
            nonlocal posted, killed_at, posted_at_kill
            for text in script[chat]:
                update = fake.push_text(chat, text, first_name=f"客户{chat % 1000}")
                await delivery.post(update)
                pushed[chat].append(update["update_id"])
                posted += 1
                if killed_at is None and posted >= total // 3:
                    killed_at, posted_at_kill = time.monotonic(), posted
                    leader.kill()  # mid-load, while it holds the outbox
                await asyncio.sleep(0.05)

        try:
            await _until(lambda: any(w.leads() for w in workers), timeout=30)
            [leader] = [w for w in workers if w.leads()]
            await asyncio.gather(*(customer(chat) for chat in chats))
            survivors = [w for w in workers if w is not leader]
            await _until(lambda: survivors[0].leads(), timeout=30)

            def answered() -> bool:
                return all(len(fake.sent("sendMessage", chat_id=c)) >= owed_replies(c) for c in chats)

            await _until(answered, timeout=90)
            complaints = [chat for chat in chats if chat % 4 == 0]
            await _until(lambda: len(_group_texts(fake, REMINDER)) >= len(complaints), timeout=60)
            await asyncio.sleep(3)  # a reminder sent twice would show by now (sweeps run every second)
        finally:
            await delivery.close()
            await stop_workers(workers)
        mine = [c for c in fake.sent("sendMessage") if c.params["chat_id"] in script]
        replies = Counter(c.params["chat_id"] for c in mine)
        first_copy: dict[tuple[int, str], float] = {}
        doubles = []  # (how long before the kill the first copy went out)
        for call in mine:
            said = (call.params["chat_id"], call.params["text"])
            if said in first_copy:
                doubles.append(killed_at - first_copy[said])
            first_copy.setdefault(said, call.at)
        reminders = _group_texts(fake, REMINDER)
    inbound = rows(postgres_url, "select update_id from contacts where direction = 'in' order by id")
    sent_rows = dict(
        rows(postgres_url, "select chat_id, count(*) from outbox where lane = 'customer' and state = 'sent' group by 1")
    )
    pending = rows(postgres_url, "select count(*) from outbox where state = 'pending'")
    queued = rows(postgres_url, "select chat_id, payload from outbox where lane = 'customer' order by update_id, id")
    doubled = sum(replies[c] - sent_rows.get(c, 0) for c in chats)
    print(
        f"\nworkers: leader killed after {posted_at_kill}/{total} updates; {delivery.redelivered} redeliveries; "
        f"{len(inbound)} recorded; {sum(replies.values())} replies for {sum(sent_rows.values())} sent rows "
        f"({doubled} sent twice, first copies {sorted(round(d, 3) for d in doubles)} s before the kill); "
        f"{len(reminders)} reminders for {len(complaints)} complaints"
    )
    recorded = [row[0] for row in inbound]
    assert sorted(recorded) == sorted(u for ids in pushed.values() for u in ids)  # every update, once
    for ids in pushed.values():  # and in each chat's own order
        assert [u for u in recorded if u in set(ids)] == ids
    assert all(replies[c] >= owed_replies(c) for c in chats)
    for chat in chats:  # each chat's replies arrived in the order of the messages they answer
        expected = [_text(payload) for c, payload in queued if c == chat]
        arrived = list(dict.fromkeys(c.params["text"] for c in mine if c.params["chat_id"] == chat))
        assert arrived == expected, chat
    assert pending == [(0,)]
    # Telegram takes no idempotency key: a message the dying sender had sent but not yet marked goes out
    # again from its successor. Only those: every second copy is of one sent in the instant before the kill.
    assert len(doubles) == doubled
    assert all(-0.2 < before < 1.0 for before in doubles), doubles  # (SIGKILL lands a moment after it is sent)
    assert len(reminders) == len(complaints)  # one each: only the lease holder sweeps


async def test_a_second_bot_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    async with FakeBotApi() as fake:
        env = _env(tmp_path, DESK_TELEGRAM__TOKEN=fake.token, DESK_TELEGRAM__BASE_URL=fake.base_url)
        env.update(DESK_TELEGRAM__POLL_TIMEOUT="1", DESK_WEB__ENABLED="false")
        first = await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await fake.wait_for("getUpdates", timeout=60)
            second = await asyncio.create_subprocess_exec(
                sys.executable, "bot.py", cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            _, raw = await asyncio.wait_for(second.communicate(), timeout=60)
            assert first.returncode is None  # the first one goes on serving
        finally:
            first.terminate()
            await first.wait()
    stderr = raw.decode()
    assert second.returncode == 2, stderr
    assert "another process is running the desk" in stderr and "PostgreSQL" in stderr
    assert "Traceback" not in stderr
