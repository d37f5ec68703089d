"""A customer sending dozens of messages a second: all recorded, answered politely, staff not flooded."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from crm_store import Contact
from desk.flood import FloodGate, Flow
from desk.intents import Intent
from tests.bot_harness import RunningBot, running_bot

CUSTOMER, GROUP, STAFF = 9301, -1007777, 900
SECTIONS = {
    "roles": {"staff": [STAFF]},
    "staff_group": {"chat_id": GROUP},
    "flood": {"max_messages": 5, "window_seconds": 30},
}


def test_the_gate_warns_once_then_stays_quiet_until_the_window_passes() -> None:
    gate = FloodGate(max_messages=3, window_seconds=10)
    flows = [gate.check("c", t * 0.1) for t in range(6)]
    assert flows == [Flow.OK, Flow.OK, Flow.OK, Flow.WARN, Flow.QUIET, Flow.QUIET]
    assert gate.check("other", 0.6) == Flow.OK  # one customer's flood slows nobody else
    assert gate.check("c", 60.0) == Flow.OK


def _inbound(bot: RunningBot) -> list[Contact]:
    with bot.desk.store.transaction() as session:
        rows = list(session.scalars(sa.select(Contact).where(Contact.direction == "in").order_by(Contact.id)))
        session.expunge_all()
        return rows


async def _settle(bot: RunningBot, expected_inbound: int) -> None:
    for _ in range(200):
        if len(_inbound(bot)) >= expected_inbound:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # let any last replies go out


async def test_forty_messages_at_once_are_all_recorded_and_answered_politely(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        for number in range(40):
            bot.fake.push_text(CUSTOMER, f"怎么退货 {number}")
        await _settle(bot, 40)
        inbound = _inbound(bot)
        assert [c.text for c in inbound] == [f"怎么退货 {n}" for n in range(40)]  # all kept, in order
        replies = [c.params["text"] for c in bot.fake.sent("sendMessage", chat_id=CUSTOMER)]
        assert len(replies) == 6 and "稍等" in replies[-1]  # five answers, then one polite note
        assert sum(c.intent == Intent.FLOODED for c in inbound) == 35


async def test_a_flood_into_a_held_chat_does_not_flood_staff(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, "我要投诉")
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        for number in range(30):
            bot.fake.push_text(CUSTOMER, f"快点 {number}")
        await _settle(bot, 31)
        assert len(_inbound(bot)) == 31
        assert len(bot.fake.sent("copyMessage", chat_id=GROUP)) <= 6
