"""The whole program as a process: console mode with piped input, and Telegram mode against the fake server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.fake_bot_api import FakeBotApi
from tests.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESK_")}
    env.update(DESK_DATABASE__URL=f"sqlite:///{tmp_path / 'crm.sqlite3'}", PYTHONUNBUFFERED="1", **extra)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def _rows(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "crm.sqlite3") as connection:
        return connection.execute(sql).fetchall()


def test_piped_console_answers_from_the_knowledge_base(tmp_path: Path) -> None:
    """`printf '怎么退货\\n' | bot.py` (no token) answers from the knowledge base and records both contacts."""
    result = subprocess.run(
        [sys.executable, "bot.py"],
        input="怎么退货\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(tmp_path),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "申请售后" in result.stdout and "转人工" in result.stdout
    rows = _rows(tmp_path, "select direction, actor, entry_id from contacts order by id")
    assert rows == [("in", "customer", "return-how"), ("out", "bot", "return-how")]


def test_bad_config_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    """A wrong value in the environment stops the program with a message naming the key."""
    result = subprocess.run(
        [sys.executable, "bot.py"],
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(tmp_path, DESK_DESK__TIMEZONE="Mars/Olympus"),
        timeout=60,
    )
    assert result.returncode == 2
    assert "desk.timezone" in result.stderr and "DESK_DESK__TIMEZONE" in result.stderr


async def test_bot_process_serves_telegram_through_the_fake_server(tmp_path: Path) -> None:
    """bot.py polls the fake Bot API over loopback, answers a customer, stops on SIGTERM, never logs the token."""
    async with FakeBotApi() as fake:
        env = _env(
            tmp_path,
            DESK_TELEGRAM__TOKEN=fake.token,
            DESK_TELEGRAM__BASE_URL=fake.base_url,
            DESK_TELEGRAM__POLL_TIMEOUT="1",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "bot.py",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            fake.push_text(4242, "怎么退货")
            [sent] = await fake.wait_for("sendMessage", chat_id=4242, timeout=30)
            assert "申请售后" in sent.params["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, stderr.decode()
        assert fake.token not in (stdout + stderr).decode()
        assert "怎么退货" not in stderr.decode()
    rows = _rows(tmp_path, "select direction, text from contacts order by id")
    assert rows[0] == ("in", "怎么退货") and rows[1][0] == "out"


async def test_telegram_unreachable_at_start_is_waited_out_then_served(tmp_path: Path) -> None:
    """No traceback and no exit when Telegram cannot be reached at boot: clear lines, retries, then service."""
    async with FakeBotApi() as fake:
        upstream = int(fake.base_url.split(":")[2].split("/")[0])
        gate = TcpProxy("127.0.0.1", upstream)
        await gate.start()
        await gate.stop()  # the bot's way to Telegram is cut; its port is kept for later
        log = tmp_path / "bot.log"
        env = _env(
            tmp_path,
            DESK_TELEGRAM__TOKEN=fake.token,
            DESK_TELEGRAM__BASE_URL=fake.base_url.replace(f":{upstream}/", f":{gate.port}/"),
            DESK_TELEGRAM__POLL_TIMEOUT="1",
        )
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "bot.py", cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            for _ in range(300):
                if "Telegram unreachable" in log.read_text(errors="replace"):
                    break
                await asyncio.sleep(0.1)
            assert "Telegram unreachable" in log.read_text(errors="replace")
            assert process.returncode is None  # still up, waiting politely
            await gate.start()
            fake.push_text(4343, "怎么退货")
            await fake.wait_for("sendMessage", chat_id=4343, timeout=60)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
            await gate.stop()
        text = log.read_text(errors="replace")
        assert process.returncode == 0, text
        assert "Traceback" not in text and fake.token not in text


async def test_a_stop_while_telegram_is_unreachable_exits_at_once(tmp_path: Path) -> None:
    env = _env(tmp_path, DESK_TELEGRAM__TOKEN="123:abc", DESK_TELEGRAM__BASE_URL="http://127.0.0.1:9/bot")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=subprocess.STDOUT
    )
    line = await asyncio.wait_for(_line_with(process, "Telegram unreachable"), timeout=60)
    assert "retrying" in line
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=10)
    assert process.returncode == 0 and b"Traceback" not in output


async def _line_with(process: asyncio.subprocess.Process, needle: str) -> str:
    assert process.stdout is not None
    while line := await process.stdout.readline():
        if needle in line.decode(errors="replace"):
            return line.decode(errors="replace")
    raise AssertionError(f"{needle!r} never logged")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_health_readiness_and_metrics_are_served_while_waiting_and_when_serving(tmp_path: Path) -> None:
    import httpx

    async with FakeBotApi() as fake:
        upstream = int(fake.base_url.split(":")[2].split("/")[0])
        gate = TcpProxy("127.0.0.1", upstream)
        await gate.start()
        await gate.stop()
        port = _free_port()
        env = _env(
            tmp_path,
            DESK_TELEGRAM__TOKEN=fake.token,
            DESK_TELEGRAM__BASE_URL=fake.base_url.replace(f":{upstream}/", f":{gate.port}/"),
            DESK_TELEGRAM__POLL_TIMEOUT="1",
            DESK_WEB__PORT=str(port),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5) as web:
                for _ in range(300):
                    with contextlib.suppress(httpx.TransportError):
                        if (await web.get("/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
                assert (await web.get("/healthz")).text == "ok\n"  # up while Telegram cannot be reached
                waiting = await web.get("/readyz")
                assert waiting.status_code == 503 and waiting.json()["telegram"] == "not answering"
                assert waiting.json()["store"] == "ok" and waiting.json()["knowledge"] == "ok"
                await gate.start()
                fake.push_text(4444, "怎么退货")
                await fake.wait_for("sendMessage", chat_id=4444, timeout=60)
                for _ in range(100):
                    if (await web.get("/readyz")).status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                assert (await web.get("/readyz")).json() == {
                    "ready": True, "store": "ok", "knowledge": "ok", "telegram": "ok"
                }  # fmt: skip
                page = await web.get("/metrics")
                # The web console is served by the same process; without signing in, only its sign-in page.
                sign_in = await web.get("/console/login")
                queue = await web.get("/console/queue", headers={"accept": "text/html"})
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
            await gate.stop()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    assert sign_in.status_code == 200 and "Telegram" in sign_in.text
    assert queue.status_code == 303 and queue.headers["location"].endswith("/console/login")
    body = page.text
    assert 'desk_messages_in_total{kind="text"} 1.0' in body
    assert 'desk_answers_total{intent="answered",tier="answer"} 1.0' in body
    assert "desk_open_tickets 0.0" in body and "desk_knowledge_entries" in body
    assert 'desk_outbox_pending{lane="customer"} 0.0' in body
    assert "怎么退货" not in body and "4444" not in body  # no customer's words or id
