"""The staff desk's whole day, end to end, as a shop open Monday to Friday 9:00–18:00 lives it.

A VIP customer complains on Saturday at 22:00: they hear that people are away until Monday 09:00 and
are promised Monday 13:00 (4 working hours); the ticket goes at once to the staff member on duty. Writing
again while waiting gets one acknowledgement, not silence and not one per message. On Monday the staff
member answers with a canned reply, finds what the customer asked before with /search, and corrects a
reply already sent by editing it. The real Application polls the fake Bot API with a controlled clock;
everything is counted from what the fake Bot API received.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from crm_store.models import OutboxMessage, Ticket
from tests.bot_harness import RunningBot, eventually, running_bot
from tests.bot_harness import stored as _rows
from tests.bot_harness import texts_sent as _texts

SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUP = -1001234
STAFF, CUSTOMER = 900, 5551
WEEKDAY = "09:00-18:00"
SECTIONS = {
    "roles": {"staff": [STAFF], "managers": []},
    "staff_group": {"chat_id": GROUP},
    "sla": {"check_seconds": 0.1},
    "tags": {"vip_customers": [CUSTOMER]},
    "hours": {
        **{day: WEEKDAY for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
        "saturday": "",
        "sunday": "",
    },
}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def _staff(bot: RunningBot, text: str, thread: int | None = None) -> dict:
    return bot.fake.push_text(STAFF, text, chat_id=GROUP, message_thread_id=thread, first_name="李雷", username="lilei")


async def _group_reply(bot: RunningBot, seen: int, needle: str) -> str:
    found = await eventually(lambda: [t for t in _texts(bot, GROUP)[seen:] if needle in t])
    return found[0]


async def test_a_saturday_night_complaint_through_to_monday_morning(database_url: str) -> None:
    now = [local(2026, 12, 5, 22, 0)]  # Saturday 22:00
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.desk.context = replace(bot.desk.context, clock=lambda: now[0])
        _staff(bot, "/onduty")
        await _group_reply(bot, 0, "已上班")

        # A question first (answered from the knowledge base, out of hours too), then the complaint.
        bot.fake.push_text(CUSTOMER, "我上周买的蓝牙耳机什么时候发货", first_name="芳", last_name="王")
        await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        bot.fake.push_text(CUSTOMER, "你们太差了，快递一个星期还没到，我要投诉", first_name="芳", last_name="王")
        [copied] = await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        thread = copied.params["message_thread_id"]
        ack = (await eventually(lambda: _texts(bot, CUSTOMER)[1:]))[0]
        assert "T000001" in ack and "非工作时间" in ack and "12月7日 09:00" in ack, ack
        assert "12月7日 13:00" in ack, ack  # VIP: 4 working hours, all of them on Monday morning
        [ticket] = _rows(bot, Ticket)
        assert ticket.due_at == local(2026, 12, 7, 13, 0)
        assert (ticket.status, ticket.assignee_user_id) == ("assigned", STAFF)  # the one on duty has it
        assert any("王芳" in t for t in _texts(bot, GROUP))  # family name first on the card

        # An hour later, waiting, the customer writes twice more: one acknowledgement (complaints.ack_minutes
        # is 30), and both messages reach the topic.
        now[0] = local(2026, 12, 5, 23, 0)
        for text in ("有人吗？", "还在吗"):
            bot.fake.push_text(CUSTOMER, text, first_name="芳", last_name="王")
        await bot.fake.wait_for("copyMessage", 3, chat_id=GROUP, timeout=10)
        notes = await eventually(lambda: _texts(bot, CUSTOMER)[2:])
        assert len(notes) == 1 and "T000001" in notes[0] and "李雷" in notes[0], notes

        # Monday 09:30: the staff member answers with a canned reply.
        now[0] = local(2026, 12, 7, 9, 30)
        _staff(bot, "/r refund-time", thread)
        canned = (await eventually(lambda: [t for t in _texts(bot, CUSTOMER) if "原路退回" in t]))[0]
        assert "T000001" in canned and "{" not in canned

        # ... finds what the customer asked before the complaint ...
        seen = len(_texts(bot, GROUP))
        _staff(bot, "/search 蓝牙耳机", thread)
        found = await _group_reply(bot, seen, "🔎")
        assert "什么时候发货" in found and "王芳" in found, found

        # ... and corrects a reply already sent by editing it.
        typed = _staff(bot, "已为您退款 ¥1000", thread)
        await bot.fake.wait_for("copyMessage", chat_id=CUSTOMER)
        # Edited once its delivery is recorded (an edit in the instant before is told "not sent" instead).
        await eventually(lambda: all(row.state == "sent" for row in _rows(bot, OutboxMessage)))
        bot.fake.push_edited_text(STAFF, typed["message"]["message_id"], "已为您退款 ¥100", chat_id=GROUP)
        [edited] = await bot.fake.wait_for("editMessageText", chat_id=CUSTOMER)
        assert bot.fake.messages[(CUSTOMER, edited.params["message_id"])]["text"] == "已为您退款 ¥100"

        # What reached the customer, in order: the answer, the away acknowledgement, one note, the canned reply.
        assert len(_texts(bot, CUSTOMER)) == 4
