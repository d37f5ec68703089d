"""Complaints end to end: ticket, staff topic, relay both ways, staff commands, rating, tags, deadlines.

The real Application polls the fake Bot API over HTTP; assertions read what the bot sent and what it stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from crm_store import Contact, Customer
from crm_store import tags as tag_store
from crm_store.models import Ticket, TicketEvent
from desk.intents import Intent
from tests.bot_harness import RunningBot, eventually, running_bot
from tests.bot_harness import stored as _rows
from tests.bot_harness import texts_sent as _texts

GROUP = -1001234
STAFF, OTHER_STAFF, OUTSIDER = 900, 902, 777
CUSTOMER = 5551
COMPLAINT = "你们太差了，快递一个星期还没到，我要投诉"
SECTIONS = {
    "roles": {"staff": [STAFF, OTHER_STAFF], "managers": []},
    "staff_group": {"chat_id": GROUP},
    "sla": {"check_seconds": 0.1},
}


async def _open_complaint(bot: RunningBot) -> int:
    """The customer complains; returns the staff topic's thread id once the copy is in it."""
    bot.fake.push_text(CUSTOMER, COMPLAINT)
    await bot.fake.wait_for("createForumTopic")
    [copied] = await bot.fake.wait_for("copyMessage", chat_id=GROUP)
    return copied.params["message_thread_id"]


async def test_complaint_to_ticket_topic_staff_reply_resolve_and_rating(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        thread = await _open_complaint(bot)
        # The customer is told at once: sympathy, ticket number, who acts next, by when.
        [ack] = _texts(bot, CUSTOMER)
        assert "抱歉" in ack and "T000001" in ack and "交货不准时" in ack and "前给您处理结果" in ack
        [ticket] = _rows(bot, Ticket)
        assert (ticket.status, ticket.cause, ticket.priority) == ("open", "late_delivery", "normal")
        assert ticket.due_at - ticket.opened_at == timedelta(hours=24)  # region unknown: "elsewhere"
        # The topic opens with the card, then the ticket header; the customer's own message is copied in.
        group_texts = _texts(bot, GROUP)
        assert "标签" in group_texts[0] and "T000001" in group_texts[1]
        [copied] = bot.fake.sent("copyMessage", chat_id=GROUP)
        assert copied.params["from_chat_id"] == CUSTOMER

        # While staff hold the chat the bot stays quiet; the message is copied to the topic.
        second = bot.fake.push_text(CUSTOMER, "订单号 88990")
        await bot.fake.wait_for("copyMessage", 2, chat_id=GROUP)
        assert len(_texts(bot, CUSTOMER)) == 1

        # A staff reply in the topic reaches the customer, answering the message it replies to.
        customer_msg_copy = bot.fake.sent("copyMessage", chat_id=GROUP)[1]
        staff_copy_id = max(mid for (chat, mid), m in bot.fake.messages.items() if chat == GROUP)
        bot.fake.push_text(
            STAFF, "非常抱歉，我们马上查", chat_id=GROUP, message_thread_id=thread, reply_to_message_id=staff_copy_id
        )
        [to_customer] = await bot.fake.wait_for("copyMessage", chat_id=CUSTOMER)
        assert to_customer.params["from_chat_id"] == GROUP
        assert to_customer.params["reply_parameters"]["message_id"] == second["message"]["message_id"]
        assert customer_msg_copy.params["message_thread_id"] == thread

        # Staff commands: tag, internal note, resolve.
        for command in ("/tag VIP", "/note 客户很着急，优先处理", "/resolve 已补发，明天送达"):
            bot.fake.push_text(STAFF, command, chat_id=GROUP, message_thread_id=thread)
        rating_prompt = await eventually(lambda: [t for t in _texts(bot, CUSTOMER) if "打分" in t])
        assert "已补发" in rating_prompt[0]
        assert not any("着急" in t for t in _texts(bot, CUSTOMER)), "an internal note reached the customer"

        # The customer rates 1: recorded, tagged at risk, staff alerted in the topic.
        [ticket] = _rows(bot, Ticket)
        bot.fake.push_callback(CUSTOMER, f"rate:{ticket.id}:1")
        await eventually(lambda: any("低分预警" in t for t in _texts(bot, GROUP)))
        [ticket] = _rows(bot, Ticket)
        assert (ticket.status, ticket.satisfaction, ticket.assignee_user_id) == ("resolved", 1, STAFF)
        assert ticket.first_response_at is not None and ticket.resolution == "已补发，明天送达"
        with bot.desk.store.transaction() as session:
            names = tag_store.tag_names(session, ticket.customer_id)
        assert {"VIP", "at_risk", "new"} <= names and "open_complaint" not in names

        actions = [(e.action, e.actor_user_id) for e in _rows(bot, TicketEvent)]
        assert [a for a, _ in actions] == [
            "opened",
            "assigned",
            "first_response",
            "tagged",
            # A priority tag counts for the open ticket too: the VIP deadline, high priority.
            "due",
            "priority",
            "note",
            "resolved",
            "rated",
        ]
        assert dict(actions)["assigned"] == STAFF and dict(actions)["note"] == STAFF

        contacts = _rows(bot, Contact)
        staff_reply = next(c for c in contacts if c.intent == Intent.STAFF_REPLY)
        assert (staff_reply.actor, staff_reply.staff_user_id, staff_reply.ticket_id) == ("staff", STAFF, ticket.id)
        relayed = next(c for c in contacts if c.intent == Intent.RELAYED)
        assert relayed.text == "订单号 88990" and relayed.ticket_id == ticket.id


async def test_two_messages_at_once_make_one_topic_and_a_deleted_topic_is_recreated(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, COMPLAINT)
        bot.fake.push_text(CUSTOMER, "还有，客服也不回复")
        await bot.fake.wait_for("copyMessage", 2, chat_id=GROUP)
        assert len(bot.fake.sent("createForumTopic")) == 1
        first = bot.fake.sent("copyMessage", chat_id=GROUP)[0].params["message_thread_id"]

        bot.fake.delete_topic(GROUP, first)
        bot.fake.push_text(CUSTOMER, "怎么还没人理我")
        await bot.fake.wait_for("createForumTopic", 2)
        await bot.fake.wait_for("copyMessage", 3, chat_id=GROUP)
        newest = bot.fake.sent("copyMessage", chat_id=GROUP)[-1].params["message_thread_id"]
        assert newest != first
        # Staff replies in the new topic still reach the customer.
        bot.fake.push_text(STAFF, "来了来了", chat_id=GROUP, message_thread_id=newest)
        await bot.fake.wait_for("copyMessage", chat_id=CUSTOMER)


async def test_outsiders_in_the_staff_group_can_do_nothing(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        thread = await _open_complaint(bot)
        bot.fake.push_text(OUTSIDER, "/take", chat_id=GROUP, message_thread_id=thread)
        bot.fake.push_text(OUTSIDER, "我来回复客户", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("只有工作人员" in t for t in _texts(bot, GROUP)))
        await bot.fake.wait_until_drained()
        [ticket] = _rows(bot, Ticket)
        assert ticket.status == "open" and ticket.assignee_user_id is None
        assert bot.fake.sent("copyMessage", chat_id=CUSTOMER) == []
        # A customer cannot run a staff command in their own chat either.
        bot.fake.push_text(CUSTOMER, "/resolve done")
        await bot.fake.wait_for("copyMessage", 2, chat_id=GROUP)
        [ticket] = _rows(bot, Ticket)
        assert ticket.status == "open"


async def test_deadline_reminder_then_breach_once_each(database_url: str) -> None:
    now = [datetime.now(UTC)]
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.desk.context = replace(bot.desk.context, clock=lambda: now[0])
        await _open_complaint(bot)
        [ticket] = _rows(bot, Ticket)
        now[0] = ticket.due_at - timedelta(minutes=30)
        await eventually(lambda: any("提醒" in t for t in _texts(bot, GROUP)))
        now[0] = ticket.due_at + timedelta(minutes=1)
        await eventually(lambda: any("超时" in t for t in _texts(bot, GROUP)))
        await _a_few_sweeps()
        assert sum("提醒" in t for t in _texts(bot, GROUP)) == 1
        assert sum("超时" in t for t in _texts(bot, GROUP)) == 1
        [ticket] = _rows(bot, Ticket)
        assert ticket.reminded_at is not None and ticket.breached_at is not None


async def test_open_tickets_and_deadlines_survive_a_restart(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    async with running_bot(url, **SECTIONS) as bot:
        thread = await _open_complaint(bot)
        [ticket] = _rows(bot, Ticket)
    later = ticket.due_at + timedelta(minutes=5)
    async with running_bot(url, **SECTIONS) as bot:
        # A fresh fake server: the same topic id exists there only if we recreate it.
        bot.fake.topics.setdefault(GROUP, {})[thread] = "restored"
        bot.desk.context = replace(bot.desk.context, clock=lambda: later)
        await eventually(lambda: any("超时" in t for t in _texts(bot, GROUP)))
        bot.fake.push_text(STAFF, "重启后继续跟进", chat_id=GROUP, message_thread_id=thread)
        await bot.fake.wait_for("copyMessage", chat_id=CUSTOMER)
        [ticket] = _rows(bot, Ticket)
        assert ticket.status == "assigned" and ticket.breached_at is not None


async def _a_few_sweeps() -> None:
    await asyncio.sleep(0.4)


async def test_a_complaint_in_traditional_or_full_width_characters_opens_a_ticket(database_url: str) -> None:
    """The one message normaliser folds Traditional and full-width for complaint words and causes too."""
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, "我要投訴，快遞一個星期還沒到")
        bot.fake.push_text(CUSTOMER + 1, "ＣＯＭＰＬＡＩＮＴ： nobody answers")
        both = await eventually(lambda: len(_rows(bot, Ticket)) == 2 and _rows(bot, Ticket))
        # The two are handled side by side: which ticket is numbered first is not fixed.
        customer_ids = {int(c.external_id): c.id for c in _rows(bot, Customer)}
        [first] = [ticket for ticket in both if ticket.customer_id == customer_ids[CUSTOMER]]
        [second] = [ticket for ticket in both if ticket.customer_id == customer_ids[CUSTOMER + 1]]
        assert first.cause == "late_delivery"
        assert second.customer_id != first.customer_id
        # The answer is sent after the decision is committed, so it may follow the rows by a moment.
        await eventually(lambda: any(str(first.number) in text for text in _texts(bot, CUSTOMER)))
