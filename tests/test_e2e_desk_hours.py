"""Running the desk on business hours, end to end: away messages, deadlines in working time, waiting.

The real Application polls the fake Bot API with a controlled clock; outcomes are counted from what the
fake Bot API received.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from crm_store.models import Ticket
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
