"""The console channel: chat with the desk in a terminal, through the same core, knowledge base and store.

Interactive or piped, one message per line; a button is pressed by typing its number. Replies go out
through the same outbox as on Telegram, so what the console shows is what the records say was sent.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from desk.flood import FloodGate
from desk.messages import Button, ContentKind, CustomerRef, Inbound, Reply
from desk.service import Desk

CHANNEL = "console"
QUIT = {"/quit", "/exit", "quit", "exit"}
# Stopping the console gives the outbox this long to finish (it is local: it never waits).
STOP_SECONDS = 2.0


class ConsoleChannel:
    """Prints replies; numbers the buttons shown since the last message so the next line can press one."""

    has_staff = False

    def __init__(self, stdout: TextIO, downloads: Path | None = None) -> None:
        self.stdout = stdout
        # Where files for the person at the terminal (their /mydata copy) are written.
        self.downloads = downloads or Path.cwd()
        self.buttons: list[Button] = []
        self._printed = 0

    async def send_reply(self, chat_id: int, reply: Reply) -> int:
        print(reply.text, file=self.stdout)
        shown = [button for row in reply.buttons for button in row]
        for number, button in enumerate(shown, start=len(self.buttons) + 1):
            print(f"  [{number}] {button.label}", file=self.stdout)
        print(file=self.stdout, flush=True)
        self.buttons += shown
        self._printed += 1
        return self._printed

    async def copy_to_customer(self, chat_id: int, from_chat_id: int, message_id: int, reply_to: int | None) -> int:
        raise NotImplementedError("the console has no staff group to copy from")

    async def edit_for_customer(self, chat_id: int, message_id: int, text: str, *, caption: bool) -> int:
        raise NotImplementedError("the console has no staff group to edit from")

    async def open_topic(self, name: str) -> int:
        raise NotImplementedError("the console has no staff group")

    async def post_to_staff(self, thread_id: int | None, text: str) -> int:
        raise NotImplementedError("the console has no staff group")

    async def copy_to_staff(self, thread_id: int, from_chat_id: int, message_id: int) -> int:
        raise NotImplementedError("the console has no staff group")

    async def send_document(self, chat_id: int, filename: str, content: bytes, caption: str) -> int:
        path = self.downloads / filename
        path.write_bytes(content)
        print(f"{caption}\n  📎 {path}\n", file=self.stdout, flush=True)
        self._printed += 1
        return self._printed

    async def delete_topic(self, thread_id: int) -> None:
        raise NotImplementedError("the console has no staff group")

    async def rename_topic(self, thread_id: int, name: str) -> None:
        raise NotImplementedError("the console has no staff group")

    async def delete_staff_messages(self, message_ids: list[int]) -> None:
        raise NotImplementedError("the console has no staff group")


async def run_console(desk: Desk, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    customer = CustomerRef(channel=CHANNEL, external_id=getpass.getuser(), display_name=getpass.getuser())
    interactive = stdin.isatty()
    if interactive:
        print("客服助手 console — type a question, a button's number to press it, /quit to leave.", file=stdout)
    # The person at the terminal is not a flooding customer: a demo piped in line by line must not be cut.
    desk.flood = FloodGate(max_messages=sys.maxsize)
    channel = ConsoleChannel(stdout)
    sender = await desk.attach(channel)
    # Read off the event loop: while the person at the terminal thinks, the web console and the outbox run.
    lines = _read_lines(stdin)
    try:
        while True:
            if interactive:
                print("> ", end="", file=stdout, flush=True)
            line = await lines.get()
            if not line:
                return 0
            line = line.rstrip("\n")
            if line.strip() in QUIT:
                return 0
            inbound = _inbound(customer, line, channel.buttons)
            channel.buttons = []
            outcome = await desk.handle(inbound)
            await sender.idle()
            if outcome.escalation is not None and not outcome.replies:
                # Staff hold this chat (on Telegram they answer from the staff group); say where it went.
                print(f"  (→ 工单 {outcome.escalation.ticket_number}：已转给工作人员)\n", file=stdout, flush=True)
    finally:
        await desk.detach(STOP_SECONDS)


def _read_lines(stdin: TextIO) -> asyncio.Queue[str]:
    """Lines of `stdin` as they come ("" at the end), read by a daemon thread, which never holds up an exit."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stdin.readline()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the console has finished and its loop is closed
                return
            if not line:
                return

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return queue


def _inbound(customer: CustomerRef, line: str, buttons: list[Button]) -> Inbound:
    choice = line.strip()
    if choice.isdigit() and 1 <= int(choice) <= len(buttons):
        button = buttons[int(choice) - 1]
        return Inbound(customer, ContentKind.BUTTON, "", datetime.now(UTC), action=button.action)
    kind = ContentKind.COMMAND if choice.startswith("/") else ContentKind.TEXT
    return Inbound(customer, kind, line, datetime.now(UTC))
