"""A newcomer's first run: no token, the terminal chat prints a one-time link to the web console beside it.

The complaint typed in the terminal is in the console's queue, and the answer typed on its page appears in
the terminal chat (through the same outbox as every reply).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from io import StringIO
from pathlib import Path

import httpx

from app.config import load_settings
from app.startup import build_desk
from bot import console_session
from tests.bot_harness import eventually
from tests.console_harness import csrf_of

ROOT = Path(__file__).resolve().parent.parent


async def test_the_printed_link_opens_the_queue_and_a_reply_from_the_page_appears_in_the_terminal(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        ROOT / "config.toml",
        telegram={"token": ""},
        database={"url": f"sqlite:///{tmp_path / 'crm.sqlite3'}", "spool_dir": tempfile.mkdtemp(prefix="spool-")},
        web={"port": 0},
    )
    desk = await asyncio.to_thread(build_desk, settings)
    read_end, write_end = os.pipe()
    stdin, typing = os.fdopen(read_end, "r", encoding="utf-8"), os.fdopen(write_end, "w", encoding="utf-8")
    out = StringIO()
    session = asyncio.create_task(console_session(desk, settings, stdin=stdin, stdout=out, web=True))
    try:
        link = await eventually(lambda: re.search(r"http://\S+/console/login/local\?key=\S+", out.getvalue()))
        typing.write("快递一个星期还没到，我要投诉\n")
        typing.flush()
        await eventually(lambda: "T000001" in out.getvalue(), timeout=10)

        async with httpx.AsyncClient(follow_redirects=True) as browser:
            queue = await browser.get(link.group(0), headers={"accept": "text/html"})
            assert queue.url.path == "/console/queue" and "T000001" in queue.text
            customer = re.search(r'href="[^"]*/console/customers/(\d+)"', queue.text)
            assert customer is not None
            page = await browser.get(f"{queue.url.scheme}://{queue.url.netloc.decode()}/console/customers/"
                                     f"{customer.group(1)}", headers={"accept": "text/html"})  # fmt: skip
            answer = await browser.post(
                str(page.url) + "/reply", data={"text": "您好，这里是客服小王，马上为您查", "csrf": csrf_of(page.text)}
            )
            assert answer.status_code == 200
            # The link was for one browser, once.
            again = await browser.get(link.group(0))
            assert again.status_code == 403
        await eventually(lambda: "您好，这里是客服小王，马上为您查" in out.getvalue(), timeout=10)
        typing.write("/quit\n")
        typing.flush()
        assert await asyncio.wait_for(session, 10) == 0
    finally:
        typing.close()
        if not session.done():
            session.cancel()
        desk.close()
