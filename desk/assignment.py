"""Who handles which ticket: the on-duty roster, round-robin with a cap per person, key customers first.

Nothing is decided in memory: duty, the round-robin's "given longest ago" and the tickets' assignees are
rows, so every worker process shares one queue. A ticket nobody can take (nobody on duty, everyone at
the cap) waits in /queue and is handed out, key customers first, as soon as someone comes on duty or
finishes a ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from crm_store import Session, relay, tickets
from crm_store import duty as duty_store
from crm_store import tags as tag_store
from crm_store.customers import customers_by_id
from crm_store.models import ACTIVE_STATUSES, Actor, Priority, Ticket
from crm_store.tickets import Who
from desk import outbox
from desk.complaints import PRIORITY_ORDER
from desk.context import DeskContext
from desk.dates import local_time
from desk.messages import Envelope, Reply
from desk.roster import member_label, roster_line

ROSTER = Who(Actor.SYSTEM, name="自动分配")


def queue_rank(key_customer: bool, priority: str, due_at: datetime) -> tuple[int, int, datetime]:
    """The queue's one order: key customers first (承认最好的顾客需要专属的待遇), then priority, then the
    nearest deadline. The roster, /queue and the web console's queue all sort by it."""
    return (0 if key_customer else 1, PRIORITY_ORDER.get(Priority(priority), 9), due_at)


def queue_key(session: Session, ctx: DeskContext, ticket: Ticket) -> tuple[int, int, datetime]:
    key_customer = bool(tag_store.tag_names(session, ticket.customer_id) & set(ctx.complaints.priority_tags))
    return queue_rank(key_customer, ticket.priority, ticket.due_at)


def fill_from_queue(session: Session, ctx: DeskContext, *, quiet: int | None = None) -> list[Envelope]:
    """Hand waiting tickets to on-duty staff with room, key customers first; a notice in each topic.

    `quiet` is a ticket whose topic is told some other way (a new ticket's header says who has it).
    """
    if not ctx.assignment.auto or not duty_store.on_duty(session):
        return []
    now = ctx.clock()
    notices = []
    waiting = sorted(duty_store.waiting_tickets(session), key=lambda ticket: queue_key(session, ctx, ticket))
    for ticket in waiting:
        member = duty_store.next_on_duty(session, ctx.assignment.max_open_per_person, now)
        if member is None:
            break
        duty_store.hand_to(session, ticket, member, ROSTER, now)
        if ticket.id != quiet and ctx.staff_available:
            text = f"👤 工单 {ticket.number} 已自动分配给 {member_label(member)}"
            notices.append(outbox.queue_notice(session, ticket.customer_id, text, now))
    return notices


def on_new_ticket(session: Session, ctx: DeskContext, ticket: Ticket) -> tuple[str, list[Envelope]]:
    """A ticket was just opened: the header's line saying who has it, and notices for others handed out."""
    if not ctx.assignment.auto or ticket.assignee_user_id is not None:
        return "", []
    notices = fill_from_queue(session, ctx, quiet=ticket.id)
    if ticket.assignee_user_id is None:
        return "\n⏳ 暂无值班同事有空，工单在 /queue 等待分配", notices
    member = duty_store.find_staff(session, user_id=ticket.assignee_user_id)
    return f"\n👤 已自动分配给 {member_label(member) if member else ticket.assignee_name}", notices


def go_on_duty(session: Session, ctx: DeskContext, who: Who, *, on: bool) -> tuple[str, list[Envelope]]:
    """/onduty and /offduty: the roster changes; coming on duty takes waiting tickets."""
    member = duty_store.find_staff(session, user_id=who.user_id)
    if member is None:
        member = duty_store.seen_staff(session, who.user_id or 0, who.name or "", None)
    duty_store.set_on_duty(session, member, on, ctx.clock())
    notices = fill_from_queue(session, ctx) if on else []
    roster = roster_line(session)
    if on:
        held = len(duty_store.tickets_of(session, member.user_id))
        return f"🟢 {member.name} 已上班，手上 {held} 个工单。\n{roster}", notices
    held = len(duty_store.tickets_of(session, member.user_id))
    kept = f"手上 {held} 个工单仍由你负责（可 /release 放回队列，或 /assign 转给同事）。" if held else ""
    return f"⚪ {member.name} 已下班，不再自动分配新工单。{kept}\n{roster}", notices


def assign_in_topic(
    session: Session, ctx: DeskContext, who: Who, chat_id: int, thread_id: int | None, argument: str
) -> tuple[str, list[Envelope]]:
    """/assign @username|id in a customer's topic: the ticket goes to that colleague."""
    target = argument.strip().split(" ", 1)[0]
    if not target:
        return "用法：/assign @用户名 或 /assign 用户ID（在客户的话题里）", []
    customer = relay.customer_of_topic(session, chat_id, thread_id) if thread_id else None
    if customer is None:
        return "请在客户的话题里使用 /assign。", []
    ticket = tickets.active_ticket(session, customer.id)
    if ticket is None or ticket.status not in ACTIVE_STATUSES:
        return "这位客户没有进行中的工单。", []
    if target.lstrip("-").isdigit():
        member = duty_store.find_staff(session, user_id=int(target))
        if member is None and _is_staff(ctx, int(target)):
            member = duty_store.seen_staff(session, int(target), target, None)
    else:
        member = duty_store.find_staff(session, username=target.removeprefix("@"))
    if member is None or not _is_staff(ctx, member.user_id):
        return f"找不到工作人员 {target}：同事要先在群里用过一次命令，或用用户ID。", []
    duty_store.hand_to(session, ticket, member, who, ctx.clock())
    return f"👤 工单 {ticket.number} 已由 {who.label} 转给 {member_label(member)}", []


def _is_staff(ctx: DeskContext, user_id: int) -> bool:
    return not ctx.assignment.staff_ids or user_id in ctx.assignment.staff_ids


def mine_text(session: Session, ctx: DeskContext, who: Who) -> str:
    """/mine: my active tickets, the nearest deadline first."""
    mine = duty_store.tickets_of(session, who.user_id or 0)
    if not mine:
        return "你手上没有进行中的工单。"
    customers = customers_by_id(session, {ticket.customer_id for ticket in mine})
    now = ctx.clock()
    lines = [f"我的工单（{len(mine)} 个，按时限）："]
    for ticket in mine:
        customer = customers[ticket.customer_id]
        late = " ⏰已超时" if ticket.due_at <= now else ""
        lines.append(
            f"{ticket.number} · {customer.display_name or customer.external_id} · 截止 "
            f"{local_time(ticket.due_at, ctx.zone)}{late} · {ticket.summary[:40]}"
        )
    return "\n".join(lines)


def owner_mention(session: Session, ticket: Ticket) -> str:
    """The assignee as a breach alert names them (@username notifies them in the group)."""
    if ticket.assignee_user_id is None:
        return "未分配"
    member = duty_store.find_staff(session, user_id=ticket.assignee_user_id)
    return member_label(member) if member else (ticket.assignee_name or str(ticket.assignee_user_id))


def tell_managers(session: Session, ctx: DeskContext, texts: Sequence[str]) -> list[Envelope]:
    """Alerts for each manager's private chat (the outbox's customer lane carries any private chat)."""
    if not texts or not ctx.staff_available:
        return []
    now = ctx.clock()
    replies = [Reply(text) for text in texts]
    return [
        envelope
        for manager in sorted(ctx.assignment.manager_ids)
        for envelope in outbox.queue_replies(session, None, manager, replies, now)
    ]
