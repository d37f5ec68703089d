"""Running the desk on business hours, end to end: away messages, deadlines in working time, waiting.

The real Application polls the fake Bot API with a controlled clock; outcomes are counted from what the
fake Bot API received.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_store.models import Contact, Customer, Ticket
from desk.names import person_name
from tests.bot_harness import RunningBot, eventually, running_bot
from tests.bot_harness import stored as _rows
from tests.bot_harness import texts_sent as _texts

SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUP = -1001234
STAFF = 900
CUSTOMER = 5551
COMPLAINT = "你们太差了，快递一个星期还没到，我要投诉"
# A shop open Monday to Friday, 9:00–18:00; Monday 7 December 2026 is a holiday.
WEEKDAY = "09:00-18:00"
HOURS = {
    "monday": WEEKDAY,
    "tuesday": WEEKDAY,
    "wednesday": WEEKDAY,
    "thursday": WEEKDAY,
    "friday": WEEKDAY,
    "saturday": "",
    "sunday": "",
}
SECTIONS = {
    "roles": {"staff": [STAFF], "managers": []},
    "staff_group": {"chat_id": GROUP},
    "sla": {"check_seconds": 0.1},
    "hours": HOURS,
}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def set_clock(bot: RunningBot, now: list[datetime]) -> None:
    bot.desk.context = replace(bot.desk.context, clock=lambda: now[0])


async def test_a_saturday_night_complaint_is_told_monday_and_promised_working_hours(database_url: str) -> None:
    """Saturday 22:00: the away message names Monday 09:00; the 24 h promise ends Wednesday 15:00."""
    now = [local(2026, 12, 5, 22, 0)]
    async with running_bot(database_url, **SECTIONS) as bot:
        set_clock(bot, now)
        bot.fake.push_text(CUSTOMER, COMPLAINT)
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        [ack] = await eventually(lambda: _texts(bot, CUSTOMER))
        assert "T000001" in ack and "非工作时间" in ack and "12月7日 09:00" in ack
        # 24 working hours from Saturday night: Monday 9 h, Tuesday 9 h, Wednesday 6 h.
        assert "12月9日 15:00" in ack
        [ticket] = _rows(bot, Ticket)
        assert ticket.due_at == local(2026, 12, 9, 15, 0)
        # The ticket is open at once and the topic has it.
        assert any("T000001" in text for text in _texts(bot, GROUP))


async def test_a_holiday_is_skipped_and_a_request_for_a_person_is_honest(database_url: str) -> None:
    """With Monday a holiday, 转人工 on Saturday hears Tuesday 09:00, not '尽快'; its deadline skips Monday."""
    now = [local(2026, 12, 5, 22, 0)]
    sections = {**SECTIONS, "hours": {**HOURS, "holidays": ["2026-12-07"]}}
    async with running_bot(database_url, **sections) as bot:
        set_clock(bot, now)
        bot.fake.push_text(CUSTOMER, "转人工")
        [ack] = await eventually(lambda: _texts(bot, CUSTOMER))
        assert "12月8日 09:00" in ack and "尽快" not in ack
        [ticket] = _rows(bot, Ticket)
        assert ticket.due_at == local(2026, 12, 10, 15, 0)


async def test_reminders_and_breaches_wait_for_working_time(database_url: str) -> None:
    """A deadline that passes at closing time is flagged when people are back, not in the night."""
    now = [local(2026, 12, 8, 10, 0)]
    async with running_bot(database_url, **SECTIONS) as bot:
        set_clock(bot, now)
        bot.fake.push_text(CUSTOMER, COMPLAINT)
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        [ticket] = _rows(bot, Ticket)
        assert ticket.due_at == local(2026, 12, 10, 16, 0)
        now[0] = local(2026, 12, 10, 20, 0)  # past the deadline, after hours
        await bot.fake.wait_until_drained()
        await _a_few_sweeps()
        assert not any("超时" in text for text in _texts(bot, GROUP))
        now[0] = local(2026, 12, 11, 9, 1)
        await eventually(lambda: any("超时" in text for text in _texts(bot, GROUP)))


async def _a_few_sweeps() -> None:
    await asyncio.sleep(0.4)


async def test_never_silent_one_acknowledgement_per_ack_minutes_and_faq_out_of_hours(database_url: str) -> None:
    """Writing to an open ticket: one short note per ack_minutes; out of hours questions are still answered."""
    now = [local(2026, 12, 5, 22, 0)]
    async with running_bot(database_url, **SECTIONS) as bot:
        set_clock(bot, now)
        bot.fake.push_text(CUSTOMER, COMPLAINT)
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        # Right after the complaint's answer: copied to staff, no second note.
        bot.fake.push_text(CUSTOMER, "订单号 88990")
        await bot.fake.wait_for("copyMessage", 2, chat_id=GROUP)
        await bot.fake.wait_until_drained()
        assert len(_texts(bot, CUSTOMER)) == 1
        # Later, twice within ack_minutes (30): exactly one acknowledgement, naming ticket and deadline.
        now[0] += timedelta(minutes=45)
        bot.fake.push_text(CUSTOMER, "补充：包裹单号 SF1234567")
        bot.fake.push_text(CUSTOMER, "照片我稍后再发")
        await bot.fake.wait_for("copyMessage", 4, chat_id=GROUP)
        await bot.fake.wait_until_drained()
        acks = _texts(bot, CUSTOMER)[1:]
        assert len(acks) == 1 and "T000001" in acks[0] and "12月9日 15:00" in acks[0] and "12月7日 09:00" in acks[0]
        # Out of hours, nobody has the ticket yet: a question is answered, and staff see it too.
        bot.fake.push_text(CUSTOMER, "退款多久到账")
        await bot.fake.wait_for("copyMessage", 5, chat_id=GROUP)
        await eventually(lambda: len(_texts(bot, CUSTOMER)) == 3)
        assert "退款" in _texts(bot, CUSTOMER)[2]


async def test_asking_for_a_person_while_a_ticket_is_open_joins_it(database_url: str) -> None:
    """转人工 and the button on an open ticket: told it is with a person already; no second ticket."""
    now = [local(2026, 12, 8, 10, 0)]
    async with running_bot(database_url, **SECTIONS) as bot:
        set_clock(bot, now)
        thread = await _complain(bot)
        bot.fake.push_text(STAFF, "/take", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("接手" in text for text in _texts(bot, GROUP)))
        bot.fake.push_text(CUSTOMER, "转人工")
        bot.fake.push_callback(CUSTOMER, "human")
        await eventually(lambda: len(_texts(bot, CUSTOMER)) == 3)
        for note in _texts(bot, CUSTOMER)[1:]:
            assert "已经在人工处理中" in note and "T000001" in note
        assert len(_rows(bot, Ticket)) == 1
        assert len(bot.fake.sent("createForumTopic")) == 1


async def test_waiting_stops_the_clock_until_the_customer_writes(database_url: str) -> None:
    """/waiting: no breach while it waits; the customer's answer moves the deadline by the time it stood."""
    now = [local(2026, 12, 8, 10, 0)]
    async with running_bot(database_url, **SECTIONS) as bot:
        set_clock(bot, now)
        thread = await _complain(bot)
        [ticket] = _rows(bot, Ticket)
        assert ticket.due_at == local(2026, 12, 10, 16, 0)
        now[0] = local(2026, 12, 8, 11, 0)
        bot.fake.push_text(STAFF, "/waiting", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("时限暂停" in text for text in _texts(bot, GROUP)))
        now[0] = local(2026, 12, 11, 10, 0)  # past the old deadline: no alert while waiting
        await _a_few_sweeps()
        assert not any("超时" in text for text in _texts(bot, GROUP))
        bot.fake.push_text(CUSTOMER, "订单号是 88990")
        # 23 working hours were left at 11:00 Tuesday: from Friday 10:00 that is next Tuesday 15:00.
        await eventually(lambda: _rows(bot, Ticket)[0].due_at == local(2026, 12, 15, 15, 0))
        [ack] = await eventually(lambda: _texts(bot, CUSTOMER)[1:])
        assert "12月15日 15:00" in ack
        # Waiting again and answered minutes later: the moved deadline is told, whatever ack_minutes says.
        bot.fake.push_text(STAFF, "/waiting", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: sum("时限暂停" in text for text in _texts(bot, GROUP)) == 2)
        now[0] = local(2026, 12, 11, 10, 5)
        bot.fake.push_text(CUSTOMER, "照片发给你们了")
        [_, again] = await eventually(lambda: _texts(bot, CUSTOMER)[1:] if len(_texts(bot, CUSTOMER)) == 3 else [])
        assert "12月15日 15:05" in again


async def test_tagging_vip_shortens_the_open_ticket_and_raises_its_priority(database_url: str) -> None:
    """/tag VIP: the open ticket gets the VIP deadline (4 working hours from opening) and high priority."""
    now = [local(2026, 12, 8, 10, 0)]
    async with running_bot(database_url, **SECTIONS) as bot:
        set_clock(bot, now)
        thread = await _complain(bot)
        bot.fake.push_text(STAFF, "/tag VIP", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("新时限" in text for text in _texts(bot, GROUP)))
        [ticket] = _rows(bot, Ticket)
        assert (ticket.due_at, ticket.priority) == (local(2026, 12, 8, 14, 0), "high")


async def _complain(bot: RunningBot) -> int:
    bot.fake.push_text(CUSTOMER, COMPLAINT)
    [copied] = await bot.fake.wait_for("copyMessage", chat_id=GROUP)
    return copied.params["message_thread_id"]


async def test_an_unrelated_complaint_after_a_closed_handoff_opens_its_own_ticket(database_url: str) -> None:
    """A late-delivery complaint after a closed 转人工 is a new ticket with its cause and the new words;
    the same cause again within reopen_days reopens it."""
    now = [local(2026, 12, 8, 10, 0)]
    async with running_bot(database_url, **SECTIONS) as bot:
        set_clock(bot, now)
        bot.fake.push_text(CUSTOMER, "转人工")
        card, _header = await bot.fake.wait_for("sendMessage", 2, chat_id=GROUP)
        thread = card.params["message_thread_id"]
        bot.fake.push_text(STAFF, "/close", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("已关闭" in text for text in _texts(bot, GROUP)))
        bot.fake.push_text(CUSTOMER, COMPLAINT)
        await eventually(lambda: len(_texts(bot, CUSTOMER)) == 2)
        answer = _texts(bot, CUSTOMER)[1]
        assert "T000002" in answer and "交货不准时" in answer and "重新打开" not in answer
        first, second = _rows(bot, Ticket)
        assert (first.status, second.cause, second.status) == ("closed", "late_delivery", "open")
        # Resolved, then the same problem again: that ticket reopens.
        bot.fake.push_text(STAFF, "/resolve 已补发", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("打分" in text for text in _texts(bot, CUSTOMER)))
        bot.fake.push_text(CUSTOMER, "快递还没到，我要投诉")
        await eventually(lambda: any("已重新打开" in text and "T000002" in text for text in _texts(bot, CUSTOMER)))
        assert len(_rows(bot, Ticket)) == 2


async def test_an_edited_staff_reply_corrects_the_customers_copy(database_url: str) -> None:
    """¥1000 → ¥100: the edit reaches the customer's copy; where Telegram refuses, the staff member is told."""
    now = [local(2026, 12, 8, 10, 0)]
    async with running_bot(database_url, **SECTIONS) as bot:
        set_clock(bot, now)
        thread = await _complain(bot)
        staff_update = bot.fake.push_text(STAFF, "已为您退款 ¥1000", chat_id=GROUP, message_thread_id=thread)
        [copied] = await bot.fake.wait_for("copyMessage", chat_id=CUSTOMER)
        # Recorded as delivered (and so in the relay map) just after Telegram answered.
        await eventually(lambda: [c for c in _rows(bot, Contact) if c.intent == "staff_reply" and c.message_id])
        staff_message_id = staff_update["message"]["message_id"]
        bot.fake.push_edited_text(STAFF, staff_message_id, "已为您退款 ¥100", chat_id=GROUP)
        [edited] = await bot.fake.wait_for("editMessageText", chat_id=CUSTOMER)
        customer_copy = bot.fake.messages[(CUSTOMER, edited.params["message_id"])]
        assert customer_copy["text"] == "已为您退款 ¥100"
        edits = [c for c in _rows(bot, Contact) if c.intent == "staff_edit"]
        assert [(c.kind, c.text, c.staff_user_id) for c in edits] == [("edited", "已为您退款 ¥100", STAFF)]
        # The customer deleted their copy: Telegram refuses the next edit, and the topic hears it.
        del bot.fake.messages[(CUSTOMER, edited.params["message_id"])]
        bot.fake.push_edited_text(STAFF, staff_message_id, "已为您退款 ¥10", chat_id=GROUP)
        await eventually(lambda: any("没有同步给客户" in text for text in _texts(bot, GROUP)))
        assert copied.params["from_chat_id"] == GROUP


async def test_a_chinese_name_is_shown_family_name_first(database_url: str) -> None:
    """Telegram's 芳 (first) 王 (last) is 王芳 on the topic, the card and in the store (so in exports)."""
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, COMPLAINT, first_name="芳", last_name="王")
        [topic] = await bot.fake.wait_for("createForumTopic")
        card = await eventually(lambda: _texts(bot, GROUP))
        assert topic.params["name"].startswith("王芳") and "王芳" in card[0] and "芳 王" not in card[0]
        [customer] = _rows(bot, Customer)
        assert customer.display_name == "王芳"


def test_names_family_name_first_only_when_both_are_chinese() -> None:
    """One function decides the order: Chinese first and last names are joined family name first."""
    assert person_name("芳", "王") == "王芳"
    assert person_name("Fang", "Wang") == "Fang Wang"
    assert person_name("王芳", None) == "王芳" and person_name("芳", "Wang") == "芳 Wang"


async def test_a_customer_writing_traditional_is_answered_in_traditional(database_url: str) -> None:
    """我要投訴 is a complaint, and the answer comes in Traditional characters (OpenCC), the ticket too."""
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, "我要投訴，快遞一個星期還沒到")
        [ack] = await eventually(lambda: _texts(bot, CUSTOMER))
        assert "投訴已登記" in ack and "工單號 T000001" in ack and "给" not in ack
        # A simplified writer still gets simplified.
        bot.fake.push_text(CUSTOMER + 1, "我要投诉")
        [plain] = await eventually(lambda: _texts(bot, CUSTOMER + 1))
        assert "投诉已登记" in plain


async def test_waiting_is_in_staff_help_and_refused_to_customers_and_outsiders(database_url: str) -> None:
    """/help lists /waiting for staff; a customer's or an outsider's /waiting stops no clock."""
    outsider = 777
    async with running_bot(database_url, **SECTIONS) as bot:
        thread = await _complain(bot)
        bot.fake.push_text(STAFF, "/help", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("/waiting" in text for text in _texts(bot, GROUP)))
        bot.fake.push_text(outsider, "/waiting", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("只有工作人员" in text for text in _texts(bot, GROUP)))
        bot.fake.push_text(CUSTOMER, "/waiting")
        await eventually(lambda: len(_texts(bot, CUSTOMER)) == 2)
        [ticket] = _rows(bot, Ticket)
        assert ticket.waiting_since is None
