"""The console channel: chat with the desk in a terminal, through the same core, knowledge base and store.

Interactive: type a question; answer a button with its number. Piped: one message per line, each reply printed.
"""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from crm_store import ContentKind
from crm_store.types import utcnow
from desk.messages import Button, CustomerRef, Inbound, Reply
from desk.service import Desk

CHANNEL = "console"
QUIT = {"/quit", "/exit", "quit", "exit"}


async def run_console(desk: Desk, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    customer = CustomerRef(channel=CHANNEL, external_id=getpass.getuser(), display_name=getpass.getuser())
    interactive = stdin.isatty()
    if interactive:
        print("客服助手 console — type a question, a button's number to press it, /quit to leave.", file=stdout)
    buttons: list[Button] = []
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            return 0
        line = line.rstrip("\n")
        if line.strip() in QUIT:
            return 0
        inbound = _inbound(customer, line, buttons if interactive else [])
        outcome = await desk.handle(inbound)
        buttons = []
        for reply in outcome.replies:
            buttons += _print_reply(reply, len(buttons), stdout)
        if outcome.escalation is not None and not outcome.replies:
            # Staff hold this chat (on Telegram they answer from the staff group); say where it went.
            print(f"  (→ 工单 {outcome.escalation.ticket_number}：已转给工作人员)\n", file=stdout, flush=True)


def _inbound(customer: CustomerRef, line: str, buttons: list[Button]) -> Inbound:
    choice = line.strip()
    if choice.isdigit() and 1 <= int(choice) <= len(buttons):
        button = buttons[int(choice) - 1]
        return Inbound(customer, ContentKind.BUTTON, "", utcnow(), action=button.action)
    kind = ContentKind.COMMAND if choice.startswith("/") else ContentKind.TEXT
    return Inbound(customer, kind, line, utcnow())


def _print_reply(reply: Reply, numbered_so_far: int, stdout: TextIO) -> list[Button]:
    print(reply.text, file=stdout)
    shown = [button for row in reply.buttons for button in row]
    for number, button in enumerate(shown, start=numbered_so_far + 1):
        print(f"  [{number}] {button.label}", file=stdout)
    print(file=stdout, flush=True)
    return shown
