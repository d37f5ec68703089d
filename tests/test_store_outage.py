"""The database goes away mid-stream: contacts and complaints wait in the spool and are replayed, none lost."""

from __future__ import annotations

import asyncio
import sqlite3
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from crm_store import Contact
from crm_store.models import Ticket
from tests.bot_harness import RunningBot, eventually, running_bot
from tests.bot_harness import texts_sent as _texts
from tests.tcp_proxy import TcpProxy

CUSTOMERS = (7101, 7102, 7103)
FAST = {"database": {"replay_seconds": 0.2, "lock_timeout_seconds": 0.3}}


async def _count(bot: RunningBot, model, **where) -> int:
    """Counted off the event loop: the PostgreSQL proxy is served by this loop."""

    def count() -> int:
        with bot.desk.store.transaction() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where)) or 0

    return await asyncio.to_thread(count)


async def _until_count(bot: RunningBot, model, expected: int, **where) -> None:
    for _ in range(150):
        try:
            if await _count(bot, model, **where) == expected:
                return
        except sa.exc.OperationalError:
            pass  # still reconnecting
        await asyncio.sleep(0.1)
    raise AssertionError(f"expected {expected} {model.__name__} rows {where}, got {await _count(bot, model, **where)}")


async def _outage_scenario(bot: RunningBot, cut, restore) -> None:
    bot.fake.push_text(CUSTOMERS[0], "怎么退货")
    await bot.fake.wait_for("sendMessage", chat_id=CUSTOMERS[0])
    await cut()
    for customer in CUSTOMERS:
        bot.fake.push_text(customer, "退款多久到账")
    bot.fake.push_text(CUSTOMERS[1], "我要投诉，快递还没到")
    # Everyone hears at once that the message is kept; nothing is in the store yet.
    await eventually(lambda: sum("已保存" in t for c in CUSTOMERS for t in _texts(bot, c)) == 4, timeout=15)
    assert bot.desk.spool is not None and bot.desk.spool.pending() == 4
    await restore()
    # Replayed: every inbound contact exactly once, the complaint has its ticket, the real answers go out.
    await _until_count(bot, Contact, 5, direction="in")
    await eventually(lambda: any("T000001" in t for t in _texts(bot, CUSTOMERS[1])), timeout=15)
    assert await _count(bot, Ticket) == 1
    assert bot.desk.spool.pending() == 0
    for customer in CUSTOMERS:
        assert any("到账" in t and "已保存" not in t for t in _texts(bot, customer))


async def test_postgresql_outage_loses_no_contact_or_complaint(postgres_url: str) -> None:
    target = urlsplit(postgres_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    proxied = urlunsplit(target._replace(netloc=f"{target.username}@127.0.0.1:{proxy.port}"))
    try:
        async with running_bot(proxied, **FAST) as bot:
            await _outage_scenario(bot, proxy.stop, proxy.start)
    finally:
        await proxy.stop()


async def test_sqlite_locked_by_another_process_loses_nothing(tmp_path) -> None:
    path = tmp_path / "crm.sqlite3"
    holder: list[sqlite3.Connection] = []

    async def lock() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        holder.append(connection)

    async def unlock() -> None:
        holder.pop().execute("ROLLBACK")

    async with running_bot(f"sqlite:///{path}", **FAST) as bot:
        await _outage_scenario(bot, lock, unlock)


async def test_after_an_outage_a_chat_is_answered_in_the_order_it_wrote(tmp_path) -> None:
    """A message arriving once the store is back waits behind the same chat's spooled ones."""
    path = tmp_path / "crm.sqlite3"
    customer = 7201
    # A slow replay job: the new message arrives before it runs, so only the desk's own ordering can help.
    slow_replay = {"database": {"replay_seconds": 60, "lock_timeout_seconds": 0.3}}
    async with running_bot(f"sqlite:///{path}", **slow_replay) as bot:
        bot.fake.push_text(customer, "你好")
        await bot.fake.wait_for("sendMessage", chat_id=customer)
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        bot.fake.push_text(customer, "怎么退货")
        bot.fake.push_text(customer, "退款多久到账")
        await eventually(lambda: sum("已保存" in t for t in _texts(bot, customer)) == 2, timeout=15)
        connection.execute("ROLLBACK")
        connection.close()
        bot.fake.push_text(customer, "怎么开发票")
        await eventually(lambda: len([t for t in _texts(bot, customer) if "已保存" not in t]) >= 4, timeout=15)
        answers = [t for t in _texts(bot, customer) if "已保存" not in t][1:]
        assert "退货" in answers[0] and "到账" in answers[1] and "发票" in answers[2], answers
