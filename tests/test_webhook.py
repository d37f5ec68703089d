"""Webhook mode, end to end: bot.py registers its webhook with a secret, refuses requests without it, and
answers Telegram only once the update is recorded (a redelivery is recorded once)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.fake_bot_api import FakeBotApi
from tests.test_process import _env, _free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret-token_for-the-webhook"


def _inbound(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "crm.sqlite3") as connection:
        return connection.execute("select update_id, text from contacts where direction = 'in' order by id").fetchall()


async def test_webhook_mode_checks_the_secret_and_records_before_answering(tmp_path: Path) -> None:
    async with FakeBotApi() as fake:
        port = _free_port()
        env = _env(
            tmp_path,
            DESK_TELEGRAM__TOKEN=fake.token,
            DESK_TELEGRAM__BASE_URL=fake.base_url,
            DESK_TELEGRAM__MODE="webhook",
            DESK_TELEGRAM__WEBHOOK_URL="https://desk.example.com/telegram/hook",
            DESK_TELEGRAM__WEBHOOK_SECRET=SECRET,
            DESK_WEB__PORT=str(port),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            [registered] = await fake.wait_for("setWebhook", timeout=60)
            assert registered.params["url"] == "https://desk.example.com/telegram/hook"
            assert registered.params["secret_token"] == SECRET
            update = fake.push_text(5151, "怎么退货")  # built by the fake, posted by us as Telegram would
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as web:
                refused = [
                    await web.post("/telegram/hook", json=update),
                    await web.post("/telegram/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}),
                ]
                assert [r.status_code for r in refused] == [403, 403]
                assert _inbound(tmp_path) == []  # refused before anything was read or recorded
                good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                accepted = await web.post("/telegram/hook", json=update, headers=good)
                assert accepted.status_code == 200
                # Telegram hears 200 only once the contact is in the store.
                assert _inbound(tmp_path) == [(update["update_id"], "怎么退货")]
                again = await web.post("/telegram/hook", json=update, headers=good)  # Telegram retries
                assert again.status_code == 200
                await fake.wait_for("sendMessage", chat_id=5151, timeout=30)
                unreadable = await web.post("/telegram/hook", json={"update_id": 99, "poll": {"id": "1"}}, headers=good)
                assert unreadable.status_code == 200  # kept as a dead letter, never retried forever
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, stderr.decode()
        assert len(fake.sent("sendMessage", chat_id=5151)) == 1
    assert _inbound(tmp_path) == [(update["update_id"], "怎么退货")]  # once, despite the redelivery
    with sqlite3.connect(tmp_path / "crm.sqlite3") as connection:
        assert connection.execute("select update_id from dead_letters").fetchall() == [(99,)]
