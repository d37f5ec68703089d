"""Delivery through the outbox, counted from what the fake Bot API received, not from our own rows.

A burst of complaints (each one a topic, a card, a header and a copy for a group Telegram lets us post
into ~20 times a minute) must not hold up anyone else; faults must not lose a complaint's way to staff;
what a stop leaves pending goes out on the next start, once.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa
from telegram.request import HTTPXRequest

from crm_store import Contact
from crm_store.models import OutboxMessage
from handlers.aiohttp_request import AiohttpRequest
from tests.bot_harness import RunningBot, eventually, running_bot, stored

# The same tests over both Bot API transports (aiohttp, the default, and httpx, the fallback).
pytestmark = pytest.mark.usefixtures("each_http_client")

GROUP, STAFF = -1003030, 900
SECTIONS = {"roles": {"staff": [STAFF]}, "staff_group": {"chat_id": GROUP}}
COMPLAINT = "我要投诉，快递一个星期还没到"
COMPLAINERS = range(20_001, 20_041)
ASKERS = range(30_001, 30_041)


def _first_answer_at(bot: RunningBot, chat_id: int) -> float | None:
    calls = bot.fake.sent("sendMessage", chat_id=chat_id)
    return calls[0].at if calls else None


def _outbox_states(bot: RunningBot, lane: str) -> dict[str, int]:
    with bot.desk.store.transaction() as session:
        rows = session.execute(
            sa.select(OutboxMessage.state, sa.func.count()).where(OutboxMessage.lane == lane).group_by("state")
        )
        return {state: count for state, count in rows}


async def test_the_bot_sends_through_the_chosen_transport(database_url: str, each_http_client: str) -> None:
    async with running_bot(database_url) as bot:
        expected = AiohttpRequest if each_http_client == "aiohttp" else HTTPXRequest
        assert type(bot.application.bot.request) is expected
        bot.fake.push_text(5001, "怎么退货")
        await bot.fake.wait_for("sendMessage", chat_id=5001)

        def delivered() -> list[Contact]:
            return [row for row in stored(bot, Contact) if row.direction == "out" and row.message_id is not None]

        (contact,) = await eventually(delivered)
        assert contact.delivery_error is None


async def test_a_complaint_burst_holds_up_no_one(database_url: str) -> None:
    """Shipped limits, a group that answers 429 past 20 posts a minute: 40 complaints, then 40 questions."""
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.limit_groups(20)
        pushed: dict[int, float] = {}
        for chat in COMPLAINERS:
            pushed[chat] = time.monotonic()
            bot.fake.push_text(chat, COMPLAINT)
        for chat in ASKERS:
            pushed[chat] = time.monotonic()
            bot.fake.push_text(chat, "怎么退货")
        await eventually(lambda: all(_first_answer_at(bot, chat) for chat in pushed), timeout=15)
        waits = {chat: _first_answer_at(bot, chat) - at for chat, at in pushed.items()}  # type: ignore[operator]
        asked = sorted(waits[chat] for chat in ASKERS)
        acknowledged = sorted(waits[chat] for chat in COMPLAINERS)
        posts = len(bot.fake.sent("sendMessage", chat_id=GROUP))
        print(f"\nburst: questions answered within {asked[-1]:.2f} s, complaints acknowledged within "
              f"{acknowledged[-1]:.2f} s, staff posts so far {posts}")  # fmt: skip
        assert asked[-1] <= 3.0, asked
        assert acknowledged[-1] <= 5.0, acknowledged
        assert all("退货" in bot.fake.sent("sendMessage", chat_id=chat)[0].params["text"] for chat in ASKERS)
        # The staff group is fed at its own pace: no post past its limit was even tried twice in a row,
        # and what waits is still owed (pending), not dropped.
        await asyncio.sleep(1.0)
        refused = [c for c in bot.fake.calls if c.params.get("chat_id") == GROUP and c.status == 429]
        assert len(refused) <= 2, f"{len(refused)} posts into the group were refused for flood control"
        staff = _outbox_states(bot, "staff")
        assert staff.get("failed", 0) == 0 and staff.get("pending", 0) > 0
        assert sum(staff.values()) == 2 * len(COMPLAINERS)  # a header and a copy per complaint


async def test_behind_the_limit_a_complaint_takes_two_posts_not_four(database_url: str) -> None:
    """Under a backlog the card, the header and the customer's words go into one post after the topic."""
    async with running_bot(database_url, telegram={"group_max_rate": 600}, **SECTIONS) as bot:
        chats = list(COMPLAINERS)[:12]
        for chat in chats:
            bot.fake.push_text(chat, COMPLAINT)
        await eventually(lambda: _outbox_states(bot, "staff") == {"sent": 2 * len(chats)}, timeout=20)
        topics = bot.fake.sent("createForumTopic", chat_id=GROUP)
        posts = bot.fake.sent("sendMessage", chat_id=GROUP) + bot.fake.sent("copyMessage", chat_id=GROUP)
        assert len(topics) == len(chats)
        # Every complaint reached its topic, in the customer's own words.
        for thread in bot.fake.topics[GROUP]:
            texts = [p.params.get("text", "") for p in posts if p.params.get("message_thread_id") == thread]
            assert any(COMPLAINT in text for text in texts) or any(
                p.method == "copyMessage" and p.params.get("message_thread_id") == thread for p in posts
            )
        assert len(posts) < 3 * len(chats), f"{len(posts)} posts for {len(chats)} complaints: nothing was joined up"


async def test_with_a_fifth_of_sends_failing_every_complaint_still_reaches_staff(database_url: str) -> None:
    async with running_bot(database_url, telegram={"overall_max_rate": 0}, **SECTIONS) as bot:
        bot.fake.fail_randomly(0.2, seed=7)
        chats = list(COMPLAINERS)[:10]
        for chat in chats:
            bot.fake.push_text(chat, f"{COMPLAINT}（订单 {chat}）")
        await eventually(lambda: _outbox_states(bot, "staff") == {"sent": 2 * len(chats)}, timeout=40)
        failed = [c for c in bot.fake.calls if c.status != 200 and c.method != "getUpdates"]
        assert failed, "the fault injection must have hit some sends"
        group_posts = bot.fake.sent("sendMessage", chat_id=GROUP) + bot.fake.sent("copyMessage", chat_id=GROUP)
        for chat in chats:
            # The customer's message reached staff: natively copied from their chat, or quoted in a joined post.
            copied = any(p.method == "copyMessage" and p.params.get("from_chat_id") == chat for p in group_posts)
            quoted = any(f"订单 {chat}" in p.params.get("text", "") and "客户：" in p.params.get("text", "")
                         for p in group_posts)  # fmt: skip
            assert copied or quoted, f"customer {chat}'s complaint never reached the staff group"
            assert bot.fake.sent("sendMessage", chat_id=chat), f"customer {chat} was never acknowledged"


async def test_what_a_stop_left_pending_goes_out_on_the_next_start_once(database_url: str, tmp_path) -> None:
    sections = {"database": {"spool_dir": str(tmp_path / "spool")}}
    async with running_bot(database_url, **sections) as bot:
        # Telegram keeps failing for this chat: the reply is still being retried when the bot stops.
        bot.fake.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=1000, chat_id=40_001)
        bot.fake.push_text(40_001, "怎么退货")
        await eventually(lambda: bot.fake.sent("sendMessage", chat_id=40_001, include_failed=True))
        started = time.monotonic()
    assert time.monotonic() - started < 10  # the stop did not sit out the retries
    assert [c.delivery_error for c in stored(bot, Contact)] == [None, "pending"]
    async with running_bot(database_url, **sections) as bot:
        [reply] = await bot.fake.wait_for("sendMessage", chat_id=40_001)
        assert "退货" in reply.params["text"]
        await eventually(lambda: [c.delivery_error for c in stored(bot, Contact)] == [None, None])
        assert _outbox_states(bot, "customer") == {"sent": 1}
    async with running_bot(database_url, **sections) as bot:
        await asyncio.sleep(1.0)
        assert bot.fake.sent("sendMessage", chat_id=40_001) == []  # sent once is sent: never again
