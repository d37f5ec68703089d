"""Faults injected through the fake Bot API: retries are bounded, nothing crashes, nothing is lost."""

from __future__ import annotations

import time

import pytest

from crm_store import Contact, Customer
from crm_store.models import TicketEvent
from tests.bot_harness import RunningBot, eventually, running_bot
from tests.bot_harness import stored as _rows

# The same tests over both Bot API transports (aiohttp, the default, and httpx, the fallback).
pytestmark = pytest.mark.usefixtures("each_http_client")

CUSTOMER = 6001
GROUP = -1009876
STAFF = 900
SECTIONS = {"roles": {"staff": [STAFF]}, "staff_group": {"chat_id": GROUP}}


def _attempts(bot: RunningBot, chat_id: int) -> int:
    return len(bot.fake.sent("sendMessage", chat_id=chat_id, include_failed=True))


async def test_a_5xx_and_a_429_are_retried_and_the_reply_arrives(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        bot.fake.fail_next("sendMessage", error_code=502, description="Bad Gateway", chat_id=CUSTOMER)
        bot.fake.push_text(CUSTOMER, "怎么退货")
        await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        bot.fake.fail_next("sendMessage", error_code=429, description="Too Many Requests", retry_after=1)
        started = time.monotonic()
        bot.fake.push_text(CUSTOMER, "退款多久到账")
        await bot.fake.wait_for("sendMessage", 2, chat_id=CUSTOMER, timeout=10)
        assert time.monotonic() - started >= 0.9  # Telegram's retry_after was honoured
        assert _attempts(bot, CUSTOMER) == 4
        # Delivered means Telegram answered: every reply's record says so once the outbox heard back.
        await eventually(lambda: [c.delivery_error for c in _rows(bot, Contact)] == [None] * 4)


async def test_a_reply_that_keeps_failing_is_recorded_as_undelivered(database_url: str) -> None:
    async with running_bot(database_url, telegram={"send_attempts": 3}) as bot:
        bot.fake.fail_next("sendMessage", error_code=500, description="Internal Server Error", times=3)
        bot.fake.push_text(CUSTOMER, "怎么退货")
        [answered] = await eventually(
            lambda: [c for c in _rows(bot, Contact) if c.delivery_error not in (None, "pending")], timeout=10
        )
        assert answered.delivery_error == "NetworkError" and answered.direction == "out"
        assert _attempts(bot, CUSTOMER) == 3  # bounded: no retry storm
        assert [c.text for c in _rows(bot, Contact) if c.direction == "in"] == ["怎么退货"]
        # The bot is still alive: the next message is answered.
        bot.fake.push_text(CUSTOMER, "谢谢")
        await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)


async def test_a_customer_who_blocked_the_bot_is_marked_and_staff_are_told(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, "我要投诉")
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        thread = bot.fake.sent("copyMessage", chat_id=GROUP)[0].params["message_thread_id"]
        bot.fake.block_user(CUSTOMER)
        bot.fake.push_text(STAFF, "您好，请问订单号？", chat_id=GROUP, message_thread_id=thread)
        await eventually(
            lambda: any("屏蔽" in c.params.get("text", "") for c in bot.fake.sent("sendMessage", chat_id=GROUP))
        )
        [customer] = _rows(bot, Customer)
        assert customer.blocked_at is not None
        assert len(bot.fake.sent("copyMessage", chat_id=CUSTOMER, include_failed=True)) == 1  # no retry storm on 403


async def test_my_chat_member_kicked_marks_the_customer_and_unblock_clears_it(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, "转人工")
        await bot.fake.wait_for("createForumTopic")
        bot.fake.push_my_chat_member(CUSTOMER, "kicked")
        await eventually(lambda: _rows(bot, Customer)[0].blocked_at is not None)
        await eventually(
            lambda: any("屏蔽" in c.params.get("text", "") for c in bot.fake.sent("sendMessage", chat_id=GROUP))
        )
        assert "customer_blocked" in [e.action for e in _rows(bot, TicketEvent)]
        bot.fake.push_my_chat_member(CUSTOMER, "member")
        await eventually(lambda: _rows(bot, Customer)[0].blocked_at is None)


async def test_the_bot_leaves_groups_it_was_not_configured_for(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        stranger_group = -100555
        bot.fake.push_update(
            {
                "my_chat_member": {
                    "chat": {"id": stranger_group, "type": "supergroup", "title": "somewhere"},
                    "from": {"id": 4242, "is_bot": False, "first_name": "X"},
                    "date": int(time.time()),
                    "old_chat_member": {"status": "left", "user": bot.fake.bot_user},
                    "new_chat_member": {"status": "member", "user": bot.fake.bot_user},
                }
            }
        )
        [left] = await bot.fake.wait_for("leaveChat")
        assert left.params["chat_id"] == stranger_group
