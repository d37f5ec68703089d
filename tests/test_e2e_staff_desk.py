"""The staff desk end to end: duty and automatic assignment, canned replies, search, my tickets.

The real Application polls the fake Bot API over HTTP; outcomes are counted from what the fake server
received, and checked against the rows in the store.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crm_store import Contact
from crm_store.models import CannedReply, StaffTopic, Ticket, TicketEvent
from desk.intents import Intent
from tests.bot_harness import RunningBot, eventually, running_bot
from tests.bot_harness import stored as _rows
from tests.bot_harness import texts_sent as _texts

GROUP = -1001234
STAFF, COLLEAGUE, MANAGER, OUTSIDER = 900, 902, 950, 777
CUSTOMER, VIP_CUSTOMER = 5551, 5552
SECTIONS = {
    "roles": {"staff": [STAFF, COLLEAGUE], "managers": [MANAGER]},
    "staff_group": {"chat_id": GROUP},
    "sla": {"check_seconds": 0.1},
    "tags": {"vip_customers": [VIP_CUSTOMER]},
    "assignment": {"max_open_per_person": 1},
    "telegram": {"overall_max_rate": 0},  # dozens of posts into one group would wait for Telegram's 20/min
}


def _staff(bot: RunningBot, user_id: int, text: str, thread: int | None = None) -> None:
    names = {STAFF: ("李雷", "lilei"), COLLEAGUE: ("韩梅梅", "hanmeimei"), MANAGER: ("王经理", "boss")}
    first_name, username = names[user_id]
    bot.fake.push_text(user_id, text, chat_id=GROUP, message_thread_id=thread, first_name=first_name, username=username)


async def _group_reply(bot: RunningBot, seen: int, needle: str) -> str:
    """The first message into the group after the first `seen` that contains `needle`."""
    found = await eventually(lambda: [t for t in _texts(bot, GROUP)[seen:] if needle in t])
    return found[0]


async def test_auto_assigned_complaint_answered_with_a_canned_reply_found_by_search_and_in_mine(
    database_url: str,
) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        _staff(bot, STAFF, "/onduty")
        await _group_reply(bot, 0, "已上班")
        # The customer asked something before complaining: staff will look for it.
        bot.fake.push_text(CUSTOMER, "我上周买的蓝牙耳机什么时候发货", first_name="芳")
        await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        bot.fake.push_text(CUSTOMER, "你们太差了，快递一个星期还没到，我要投诉", first_name="芳")
        [copied] = await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        thread = copied.params["message_thread_id"]

        # Assigned at once to the one on duty; the header says so and the card shows who is on duty.
        [ticket] = _rows(bot, Ticket)
        assert (ticket.status, ticket.assignee_user_id) == ("assigned", STAFF)
        posts = _texts(bot, GROUP)
        assert any("T000001" in t and "已自动分配给 李雷 (@lilei)" in t for t in posts)
        assert any("🟢 值班：李雷 (@lilei)" in t for t in posts)

        # /r refund-time: the customer receives the filled-in text, recorded like a typed reply.
        seen = len(_texts(bot, GROUP))
        _staff(bot, STAFF, "/r refund-time", thread)
        received = await eventually(lambda: [t for t in _texts(bot, CUSTOMER) if "原路退回" in t])
        assert received[0].startswith("芳您好") and "T000001" in received[0] and "{" not in received[0]
        assert "已发送快捷回复 refund-time" in await _group_reply(bot, seen, "快捷回复")
        reply = next(c for c in _rows(bot, Contact) if c.intent == Intent.STAFF_REPLY)
        assert (reply.staff_user_id, reply.ticket_id, reply.text) == (STAFF, ticket.id, received[0])
        [ticket] = _rows(bot, Ticket)
        assert ticket.first_response_at is not None

        # /search finds the customer's earlier message (a three-character phrase and a two-character word).
        for query in ("/search 蓝牙耳机", "/search 耳机 7d"):
            seen = len(_texts(bot, GROUP))
            _staff(bot, STAFF, query, thread)
            found = await _group_reply(bot, seen, "🔎")
            assert "1 条" in found and "什么时候发货" in found and "芳" in found, found
            assert f"https://t.me/c/1234/{thread}" in found
        # and the staff reply, with the ticket and a link to the topic message.
        seen = len(_texts(bot, GROUP))
        _staff(bot, STAFF, "/search 原路退回", thread)
        found = await _group_reply(bot, seen, "🔎")
        assert "T000001" in found and "李雷" in found and f"https://t.me/c/1234/{thread}/" in found

        # /mine lists it, by deadline.
        seen = len(_texts(bot, GROUP))
        _staff(bot, STAFF, "/mine")
        mine = await _group_reply(bot, seen, "我的工单")
        assert "T000001" in mine and "芳" in mine
        # Exactly one message reached the customer per step: the FAQ answer, the complaint ack, the canned reply.
        assert len(_texts(bot, CUSTOMER)) == 3


async def test_round_robin_with_a_cap_the_queue_key_customers_first_and_a_handover(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        _staff(bot, STAFF, "/onduty")
        _staff(bot, COLLEAGUE, "/onduty")
        await eventually(lambda: sum("已上班" in t for t in _texts(bot, GROUP)) == 2)
        customers = [6001, 6002, 6003]
        for number, customer in enumerate(customers, start=1):
            bot.fake.push_text(customer, "我要投诉，东西坏了")
            await eventually(lambda n=number: len(_rows(bot, Ticket)) == n)
        first, second, third = _rows(bot, Ticket)
        # One each (cap 1), taking turns; the third waits.
        assert {first.assignee_user_id, second.assignee_user_id} == {STAFF, COLLEAGUE}
        assert third.assignee_user_id is None and third.status == "open"
        await eventually(lambda: any("T000003" in t and "/queue 等待" in t for t in _texts(bot, GROUP)))
        # A key customer complains later, but goes first when someone is free.
        bot.fake.push_text(VIP_CUSTOMER, "我要投诉，质量太差")
        await eventually(lambda: len(_rows(bot, Ticket)) == 4)
        holder = first.assignee_user_id
        assert holder is not None
        _staff(bot, holder, "/resolve 已补发", await eventually(lambda: _thread_of(bot, first.customer_id)))
        assert await eventually(lambda: _ticket(bot, "T000004").assignee_user_id) == holder
        assert _ticket(bot, "T000003").assignee_user_id is None

        # /assign @username hands a ticket to a named colleague, with the audit trail.
        other, username = (COLLEAGUE, "hanmeimei") if holder == STAFF else (STAFF, "lilei")
        vip_thread = await eventually(lambda: _thread_of(bot, _ticket(bot, "T000004").customer_id))
        seen = len(_texts(bot, GROUP))
        _staff(bot, holder, f"/assign @{username}", vip_thread)
        await _group_reply(bot, seen, "转给")
        assert _ticket(bot, "T000004").assignee_user_id == other
        assert any(e.action == "assigned" and e.actor_user_id == holder for e in _rows(bot, TicketEvent))

        # Going off duty: no new tickets, and the roster says so.
        seen = len(_texts(bot, GROUP))
        _staff(bot, STAFF, "/offduty")
        assert "已下班" in await _group_reply(bot, seen, "下班")


async def test_managers_keep_canned_replies_and_staff_only_read_them(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        seen = len(_texts(bot, GROUP))
        _staff(bot, STAFF, "/canned add hi 您好 {customer}")
        assert "只有经理" in await _group_reply(bot, seen, "经理")
        seen = len(_texts(bot, GROUP))
        _staff(bot, MANAGER, "/canned add wait 请稍等，{staff}正在为您查询工单 {ticket}")
        assert "已添加" in await _group_reply(bot, seen, "快捷回复 wait")
        seen = len(_texts(bot, GROUP))
        _staff(bot, MANAGER, "/canned add bad 您好 {name}")
        assert "不能保存" in await _group_reply(bot, seen, "不能保存")
        seen = len(_texts(bot, GROUP))
        _staff(bot, MANAGER, "/canned del thanks")
        await _group_reply(bot, seen, "已删除")
        seen = len(_texts(bot, GROUP))
        _staff(bot, STAFF, "/canned list")
        listed = await _group_reply(bot, seen, "快捷回复（")
        assert "/r wait" in listed and "/r refund-time" in listed and "/r thanks" not in listed
        with bot.desk.store.transaction() as session:
            changed = {row.code: row.text for row in session.scalars(sa.select(CannedReply))}
        assert changed == {"thanks": None, "wait": "请稍等，{staff}正在为您查询工单 {ticket}"}
        seen = len(_texts(bot, GROUP))
        _staff(bot, STAFF, "/help")
        help_text = await _group_reply(bot, seen, "工作人员命令")
        for command in ("/r ", "/canned", "/onduty", "/offduty", "/assign", "/mine", "/search", "/queue"):
            assert command in help_text


def _ticket(bot: RunningBot, number: str) -> Ticket:
    return next(ticket for ticket in _rows(bot, Ticket) if ticket.number == number)


def _thread_of(bot: RunningBot, customer_id: int) -> int | None:
    topics = [t for t in _rows(bot, StaffTopic) if t.customer_id == customer_id]
    return topics[0].thread_id if topics else None


async def test_a_breach_names_the_assignee_in_the_topic_and_reaches_the_managers(database_url: str) -> None:
    now = [datetime.now(UTC)]
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.desk.context = replace(bot.desk.context, clock=lambda: now[0])
        _staff(bot, STAFF, "/onduty")
        await _group_reply(bot, 0, "已上班")
        bot.fake.push_text(CUSTOMER, "我要投诉，快递一个星期还没到")
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        [ticket] = _rows(bot, Ticket)
        now[0] = ticket.due_at + timedelta(minutes=1)
        breach = await _group_reply(bot, 0, "超时")
        assert "T000001" in breach and "李雷 (@lilei)" in breach
        [to_manager] = await eventually(lambda: [t for t in _texts(bot, MANAGER) if "超时" in t])
        assert "T000001" in to_manager
        assert not any("超时" in t for t in _texts(bot, CUSTOMER))


async def test_inline_mode_offers_canned_replies_to_staff_only_and_a_pick_sends_it(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        asked = [
            bot.fake.push_inline_query(STAFF, "退款", first_name="李雷"),
            bot.fake.push_inline_query(OUTSIDER, "退款"),
        ]
        answers = await bot.fake.wait_for("answerInlineQuery", 2)
        by_query = {str(call.params["inline_query_id"]): call.params for call in answers}
        staff_answer, outsider_answer = (by_query[update["inline_query"]["id"]] for update in asked)
        assert [r["id"] for r in staff_answer["results"]] == ["refund-time"]
        assert staff_answer["results"][0]["input_message_content"]["message_text"] == "/r refund-time"
        assert outsider_answer["results"] == []

        # Picking it sends "/r refund-time" via the bot into the topic: it is sent as the canned reply, not copied.
        bot.fake.push_text(CUSTOMER, "我要投诉，快递一个星期还没到", first_name="芳")
        [copied] = await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        thread = copied.params["message_thread_id"]
        bot.fake.push_text(STAFF, "/r refund-time", chat_id=GROUP, message_thread_id=thread, via_bot=True)
        await eventually(lambda: any("原路退回" in t for t in _texts(bot, CUSTOMER)))
        assert bot.fake.sent("copyMessage", chat_id=CUSTOMER) == []
