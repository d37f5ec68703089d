"""The staff group's commands: the desk's working tools (canned replies, duty and assignment, search)
first, then the ticket commands of `desk.staff`.

One unit of work per command. The staff member is remembered on every command (name and username), so
`/assign @username` finds colleagues who have used the desk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crm_store import Session
from crm_store import duty as duty_store
from crm_store.tickets import Who
from desk import assignment, canned, search, staff
from desk.context import DeskContext
from desk.staff import StaffOutcome

TOOLS_HELP = (
    "快捷回复：/r 代码 在话题里发送快捷回复  /canned list|add 代码 文字|del 代码（增删限经理）\n"
    "  也可以在输入框输入 @机器人用户名 关键词 查找快捷回复\n"
    "值班与分配：/onduty 上班  /offduty 下班  /assign @用户名|用户ID 转给同事（话题里）  /mine 我的工单（按时限）\n"
    "搜索：/search 关键词 [时间段，如 7d、30d、2026-11] 查找客户和工作人员的消息（任何话题）"
)
# After these the queue may have room: a ticket ended or was put back.
FREES_ROOM = {"resolve", "close", "release"}


@dataclass(frozen=True)
class Caller:
    """The staff member behind a command, as the channel knows them."""

    who: Who
    username: str | None
    is_manager: bool


@dataclass(frozen=True)
class Where:
    """Where the command was typed: the staff group, the topic (if any), the command's own message."""

    chat_id: int
    thread_id: int | None
    message_id: int


def help_text() -> str:
    return f"{staff.STAFF_HELP}\n{TOOLS_HELP}"


def run_staff_command(
    session: Session, ctx: DeskContext, caller: Caller, where: Where, command: str, argument: str
) -> StaffOutcome:
    """One command typed in the staff group by a staff member."""
    duty_store.seen_staff(session, caller.who.user_id or 0, caller.who.name or "", caller.username)
    tool = TOOLS.get(command)
    if tool is not None:
        return tool(session, ctx, caller, where, argument)
    if command in ("help", "start"):
        return StaffOutcome(help_text())
    if command not in staff.COMMANDS and command != "queue":
        return StaffOutcome(f"未知命令 /{command}。\n\n{help_text()}")
    result = staff.run_command(session, ctx, caller.who, where.chat_id, where.thread_id, command, argument)
    if command in FREES_ROOM:
        result.outbox += assignment.fill_from_queue(session, ctx)
    return result


def _reply(session: Session, ctx: DeskContext, caller: Caller, where: Where, argument: str) -> StaffOutcome:
    return canned.send(
        session,
        ctx,
        caller.who,
        chat_id=where.chat_id,
        thread_id=where.thread_id,
        message_id=where.message_id,
        argument=argument,
    )


def _canned(session: Session, ctx: DeskContext, caller: Caller, where: Where, argument: str) -> StaffOutcome:
    return StaffOutcome(canned.manage(session, ctx, caller.who, is_manager=caller.is_manager, argument=argument))


def _onduty(session: Session, ctx: DeskContext, caller: Caller, where: Where, argument: str) -> StaffOutcome:
    text, envelopes = assignment.go_on_duty(session, ctx, caller.who, on=True)
    return StaffOutcome(text, outbox=envelopes)


def _offduty(session: Session, ctx: DeskContext, caller: Caller, where: Where, argument: str) -> StaffOutcome:
    text, envelopes = assignment.go_on_duty(session, ctx, caller.who, on=False)
    return StaffOutcome(text, outbox=envelopes)


def _assign(session: Session, ctx: DeskContext, caller: Caller, where: Where, argument: str) -> StaffOutcome:
    text, envelopes = assignment.assign_in_topic(session, ctx, caller.who, where.chat_id, where.thread_id, argument)
    return StaffOutcome(text, outbox=envelopes)


def _mine(session: Session, ctx: DeskContext, caller: Caller, where: Where, argument: str) -> StaffOutcome:
    return StaffOutcome(assignment.mine_text(session, ctx, caller.who))


def _search(session: Session, ctx: DeskContext, caller: Caller, where: Where, argument: str) -> StaffOutcome:
    return StaffOutcome(search.search_text(session, ctx, argument))


TOOLS: dict[str, Callable[[Session, DeskContext, Caller, Where, str], StaffOutcome]] = {
    "r": _reply,
    "canned": _canned,
    "onduty": _onduty,
    "offduty": _offduty,
    "assign": _assign,
    "mine": _mine,
    "search": _search,
}
