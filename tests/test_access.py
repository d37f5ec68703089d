"""No one gets in where they do not belong: every staff command and every manager command, tried by people
who may not use it, where they may not use it, through the real Application and the fake Bot API.

Each try must be answered with a refusal or the help (or, in a group the bot does not serve, ignored), and
must change nothing in the store: tickets, their audit trail, tags, regions, exports, erasures.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import sqlalchemy as sa

from app.config import Settings
from crm_store import Customer
from crm_store.models import CannedReply, CustomerTag, Erasure, Export, StaffMember, Ticket, TicketEvent
from desk.staff import COMMANDS
from desk.staff_tools import TOOLS
from tests.bot_harness import RunningBot, running_bot

GROUP, STRANGER_GROUP = -1004321, -100999
STAFF, MANAGER, OUTSIDER = 900, 950, 777
COMPLAINANT, OTHER_CUSTOMER = 5551, 5552
SECTIONS: dict = {
    "roles": {"staff": [STAFF], "managers": [MANAGER]},
    "staff_group": {"chat_id": GROUP},
    "telegram": {"overall_max_rate": 0},  # ~40 refusals into one group would wait for Telegram's 20/min
}
if "flood" in Settings.model_fields:  # dozens of commands a second from one person is the point here
    SECTIONS["flood"] = {"max_messages": 1000}

# Every staff command with an argument that would make it act, plus the ones outside COMMANDS.
ARGUMENTS = {
    "resolve": "已处理",
    "reopen": "再看看",
    "tag": "VIP value",
    "untag": "open_complaint",
    "note": "内部备注",
    "cause": "poor_quality",
    "priority": "urgent",
    "region": "杭州",
    "r": "refund-time",
    "canned": "add hi 您好",
    "assign": str(STAFF),
    "search": "快递",
}
STAFF_COMMANDS = [f"/{name} {ARGUMENTS.get(name, '')}".strip() for name in (*COMMANDS, *TOOLS, "queue", "help")]
STAFF_COMMANDS += ["/TAKE", "/resolve@kefu_test_bot 已处理"]  # case and @bot suffix must not slip through
MANAGER_COMMANDS = ["/logs", "/logs 30d format=xlsx", "/report", "/report 7d"]
ERASE = "/erase {customer_id}"

REFUSED_MANAGER = "仅限管理人员"
NOT_STAFF = "只有工作人员"
UNKNOWN = "不认识这个命令"
CUSTOMER_HELP = "我可以回答"  # a customer's /help is the customers' help, never the staff's


@dataclass(frozen=True)
class Attempt:
    """Who tries which commands where, and what the answer must say (None: no answer at all)."""

    who: str
    user_id: int
    chat_id: int
    in_topic: bool
    commands: list[str]
    answer: str | None


def attempts() -> list[Attempt]:
    return [
        # Customers in their private chat: staff commands are unknown to them, manager commands refused.
        Attempt("customer", OTHER_CUSTOMER, OTHER_CUSTOMER, False, [*STAFF_COMMANDS, ERASE], UNKNOWN),
        Attempt("customer", OTHER_CUSTOMER, OTHER_CUSTOMER, False, MANAGER_COMMANDS, REFUSED_MANAGER),
        Attempt("complainant", COMPLAINANT, COMPLAINANT, False, MANAGER_COMMANDS, REFUSED_MANAGER),
        # An outsider in the staff group, in the customer's topic and in General.
        Attempt("outsider", OUTSIDER, GROUP, True, [*STAFF_COMMANDS, ERASE], NOT_STAFF),
        Attempt("outsider", OUTSIDER, GROUP, False, STAFF_COMMANDS[:3], NOT_STAFF),
        Attempt("outsider", OUTSIDER, GROUP, True, MANAGER_COMMANDS, REFUSED_MANAGER),
        # Staff outside the staff group: in private they are customers; in a stranger group nothing answers.
        Attempt("staff", STAFF, STAFF, False, STAFF_COMMANDS, UNKNOWN),
        Attempt("staff", STAFF, STRANGER_GROUP, False, STAFF_COMMANDS, None),
        # Staff who are not managers: no customer data, no erasure, wherever they ask.
        Attempt("staff", STAFF, STAFF, False, MANAGER_COMMANDS, REFUSED_MANAGER),
        Attempt("staff", STAFF, GROUP, True, MANAGER_COMMANDS, REFUSED_MANAGER),
        Attempt("staff", STAFF, GROUP, True, [ERASE], "只有经理"),
    ]


TICKET_COLUMNS = (
    Ticket.id, Ticket.status, Ticket.assignee_user_id, Ticket.priority, Ticket.cause, Ticket.region,
    Ticket.resolution, Ticket.due_at, Ticket.closed_at, Ticket.satisfaction,
)  # fmt: skip


def _state(bot: RunningBot) -> dict[str, list[tuple]]:
    """Everything a command could change, as plain tuples."""

    def rows(*columns) -> list[tuple]:
        return [tuple(row) for row in session.execute(sa.select(*columns).order_by(*columns))]

    with bot.desk.store.transaction() as session:
        return {
            "tickets": rows(*TICKET_COLUMNS),
            "events": rows(TicketEvent.id, TicketEvent.action),
            "tags": rows(CustomerTag.customer_id, CustomerTag.tag_id),
            "customers": rows(Customer.id, Customer.region, Customer.erased_at, Customer.display_name),
            "exports": rows(Export.id),
            "erasures": rows(Erasure.id),
            "canned": rows(CannedReply.code),
            "staff": rows(StaffMember.user_id, StaffMember.on_duty),
        }


def _texts(bot: RunningBot, chat_id: int) -> list[str]:
    return [c.params["text"] for c in bot.fake.sent("sendMessage", chat_id=chat_id)]


async def _quiet(bot: RunningBot, seconds: float = 0.2) -> None:
    """Wait until the bot has made no call (but polling) for `seconds`."""
    seen = -1
    while seen != (busy := sum(c.method != "getUpdates" for c in bot.fake.calls)):
        seen = busy
        await asyncio.sleep(seconds)


async def test_every_privileged_command_is_refused_where_it_does_not_belong(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        fake = bot.fake
        fake.push_text(COMPLAINANT, "我要投诉，快递太慢")
        [copied] = await fake.wait_for("copyMessage", chat_id=GROUP)
        thread = copied.params["message_thread_id"]
        # The other customer and the staff member have written before (in private staff are customers too).
        for user_id in (OTHER_CUSTOMER, STAFF):
            fake.push_text(user_id, "你好")
            await fake.wait_for("sendMessage", chat_id=user_id)
        await _quiet(bot)
        before = _state(bot)
        with bot.desk.store.transaction() as session:
            customer_id = session.scalar(sa.select(Customer.id).where(Customer.external_id == str(COMPLAINANT)))
        assert before["tickets"] and before["tags"], "the scene needs a ticket and tags to protect"

        for attempt in attempts():
            sent_before = len(_texts(bot, attempt.chat_id))
            commands = [command.format(customer_id=customer_id) for command in attempt.commands]
            for command in commands:
                fake.push_text(
                    attempt.user_id,
                    command,
                    chat_id=attempt.chat_id,
                    message_thread_id=thread if attempt.in_topic else None,
                )
            label = f"{attempt.who} in chat {attempt.chat_id}{' (topic)' if attempt.in_topic else ''}"
            if attempt.answer is not None:
                await fake.wait_for("sendMessage", sent_before + len(commands), chat_id=attempt.chat_id, timeout=10)
            await fake.wait_until_drained()
            await _quiet(bot)
            answers = _texts(bot, attempt.chat_id)[sent_before:]
            if attempt.answer is None:
                assert answers == [], f"{label} was answered: {answers}"
            else:
                assert len(answers) == len(commands), f"{label}: {len(answers)} answers to {commands}"
                wrong = [
                    (c, a[:60])
                    for c, a in zip(commands, answers, strict=True)
                    if attempt.answer not in a
                    and not (attempt.answer == UNKNOWN and c == "/help" and CUSTOMER_HELP in a)
                ]
                assert not wrong, f"{label} not refused: {wrong}"
            assert _state(bot) == before, f"{label} changed the store with {commands}"

        # Staff help never reached a customer; nothing reached the complainant but the bot's own first answer.
        for chat in (OTHER_CUSTOMER, STAFF, COMPLAINANT):
            assert not any("工作人员命令" in text for text in _texts(bot, chat))
        assert [t for t in _texts(bot, COMPLAINANT) if REFUSED_MANAGER not in t] == _texts(bot, COMPLAINANT)[:1]
        assert fake.sent("copyMessage", chat_id=COMPLAINANT) == []
        assert fake.sent("sendDocument") == [] and fake.sent("sendMediaGroup") == []
