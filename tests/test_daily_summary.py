"""The managers' daily summary: yesterday's figures, sent once to each manager's private chat."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import CallbackContext

from app.config import ConfigError, load_settings
from handlers.daily_summary import send_daily_summary
from tests.bot_harness import eventually, running_bot
from tests.bot_harness import texts_sent as _texts
from tests.conftest import ROOT

GROUP, STAFF, MANAGERS = -1001234, 900, (950, 951)
SECTIONS = {
    "roles": {"staff": [STAFF], "managers": list(MANAGERS)},
    "staff_group": {"chat_id": GROUP},
    "reports": {"daily_at": "09:00"},
}


async def test_yesterdays_summary_reaches_every_manager_once(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        bot.fake.push_text(STAFF, "/onduty", chat_id=GROUP, first_name="李雷")
        bot.fake.push_text(5551, "我要投诉，快递一个星期还没到")
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        bot.desk.context = replace(bot.desk.context, clock=lambda: tomorrow)
        job_context = CallbackContext(bot.application)
        await send_daily_summary(job_context)
        for manager in MANAGERS:
            [summary] = await eventually(lambda m=manager: _texts(bot, m))
            assert "每日汇总" in summary and "投诉 Complaints: 1" in summary and "Open tickets now: 1" in summary
            assert "按工作人员" in summary and "李雷: 1" in summary  # the per-staff table
        await send_daily_summary(job_context)  # a second worker, or a restart: not sent again
        await bot.fake.wait_until_drained()
        assert all(len(_texts(bot, manager)) == 1 for manager in MANAGERS)
        assert not any("每日汇总" in t for t in _texts(bot, 5551))


def test_the_time_of_day_is_checked() -> None:
    settings = load_settings(ROOT / "config.toml", reports={"daily_at": "09:30"})
    assert settings.reports.daily_time(ZoneInfo("Asia/Shanghai")).hour == 9
    assert load_settings(ROOT / "config.toml").reports.daily_time(ZoneInfo("Asia/Shanghai")) is None
    with pytest.raises(ConfigError, match="daily_at"):
        load_settings(ROOT / "config.toml", reports={"daily_at": "9 am"})
