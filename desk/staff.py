"""Staff work on escalated chats: commands in a customer's topic, and replies relayed to the customer.

Each public function is one unit of work (`Desk.run`) and returns what the channel must send; no channel
calls here. Staff-facing texts are Chinese, the staff group's working language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from crm_store import Session, record_contact, relay, tickets
from crm_store import tags as tag_store
from crm_store.causes import CAUSE_LABELS, cause_label
from crm_store.models import (
    ACTIVE_STATUSES,
    Actor,
    ContentKind,
    Customer,
    Direction,
    Priority,
    TagKind,
    TagSource,
    Ticket,
)
from crm_store.outbox import PENDING
from crm_store.tickets import TicketError, Who
from desk import actions, candidate_phrasings, escalation, outbox, views
from desk.complaints import PRIORITY_ORDER, clock_time_between, due_time, priority_for
from desk.context import DeskContext
from desk.dates import local_time
from desk.intents import Intent
from desk.language import customer_language, in_their_script, reply_language
from desk.messages import Button, Envelope, Reply
from desk.texts import say

STAFF_HELP = (
    "工作人员命令（在客户的话题里使用）：\n"
    "/take 接手  /release 放回队列  /resolve [处理结果] 解决并请客户评分  /close 关闭  /reopen [原因] 重新打开\n"
    "/tag 标签 [kind]  /untag 标签  /note 内部备注（不会发给客户）  /cause 原因  /priority urgent|high|normal|low\n"
    "/region 地区  /history 客户档案与最近记录  /queue 待处理工单（任何话题）\n"
    "/waiting 等待客户回复：时限暂停，客户一发消息就继续计时\n"
    "/link 条目编号：把客户最近的问题记为该知识条目的新问法（经理 /review 审核）\n"
    "/erase 客户编号 [原因]：经理删除客户数据，按按钮确认（客户用 /forget 申请；没有申请时须写明原因）\n"
    "在话题里直接发消息 = 回复客户；回复客户的某条消息 = 回复到那一条。"
)


@dataclass
class StaffOutcome:
    """What to post back in the topic and what to send to the customer."""

    topic_text: str | None = None
    customer_chat_id: int | None = None
    customer_replies: list[Reply] = field(default_factory=list)
    # The customer replies, queued for sending in the command's transaction.
    outbox: list[Envelope] = field(default_factory=list)
    # The command could not be carried out (topic_text says why).
    refused: bool = False


@dataclass(frozen=True)
class RelayPlan:
    """Where a staff message goes on the customer's side, and the contact already recorded for it."""

    customer_id: int
    customer_chat_id: int
    reply_to_message_id: int | None
    contact_id: int | None
    ticket_number: str | None
    blocked: bool


def run_command(
    session: Session,
    ctx: DeskContext,
    who: Who,
    chat_id: int,
    thread_id: int | None,
    command: str,
    argument: str,
) -> StaffOutcome:
    """One staff command; unknown commands and commands outside a customer's topic get the help."""
    if command == "queue":
        return StaffOutcome(queue_text(session, ctx))
    if command in ("help", "start"):
        return StaffOutcome(STAFF_HELP)
    customer = relay.customer_of_topic(session, chat_id, thread_id) if thread_id else None
    handler = COMMANDS.get(command)
    if handler is None:
        return StaffOutcome(f"未知命令 /{command}。\n\n{STAFF_HELP}")
    if customer is None:
        return StaffOutcome("请在客户的话题里使用这个命令。\n\n" + STAFF_HELP)
    return _run_for(session, ctx, who, customer, handler, argument)


# What the web console's buttons and forms may do for a customer (the rest stays in the topic).
PAGE_COMMANDS = ("take", "release", "resolve", "close", "reopen", "note", "tag", "untag")


def run_page_command(
    session: Session, ctx: DeskContext, who: Who, customer_id: int, command: str, argument: str
) -> StaffOutcome:
    """A staff command given from the web console: the same command as in the customer's topic."""
    customer = session.get(Customer, customer_id)
    if command not in PAGE_COMMANDS or customer is None or customer.erased_at is not None:
        return StaffOutcome("不能执行：没有这个客户或命令", refused=True)
    result = _run_for(session, ctx, who, customer, COMMANDS[command], argument)
    done = result.topic_text and not result.refused
    if done and ctx.staff_available and relay.topic_of(session, customer.id) is not None:
        # Staff in the topic see what was done from the page, and by whom.
        told = f"🖥 {who.label}：{result.topic_text}"
        result.outbox.append(outbox.queue_to_topic(session, customer.id, told, ctx.clock()))
    return result


def _run_for(
    session: Session,
    ctx: DeskContext,
    who: Who,
    customer: Customer,
    handler: Callable[[Session, DeskContext, Who, Customer, str], StaffOutcome],
    argument: str,
) -> StaffOutcome:
    try:
        result = handler(session, ctx, who, customer, argument.strip())
    except TicketError as exc:
        return StaffOutcome(f"不能执行：{exc}", refused=True)
    if result.customer_replies:
        replies = result.customer_replies
        result.outbox = outbox.queue_replies(session, customer.id, _chat_of(customer), replies, ctx.clock())
    return result


def _current(session: Session, customer: Customer) -> Ticket:
    ticket = tickets.active_ticket(session, customer.id) or tickets.latest_ticket(session, customer.id)
    if ticket is None:
        raise TicketError("这位客户没有工单")
    return ticket


def _take(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    ticket = _current(session, customer)
    if ticket.status not in ACTIVE_STATUSES:
        raise TicketError(f"工单 {ticket.number} 状态为 {ticket.status}")
    if tickets.take(session, ticket, who, ctx.clock()):
        return StaffOutcome(f"✅ {who.label} 接手了工单 {ticket.number}")
    return StaffOutcome(f"工单 {ticket.number} 已由 {ticket.assignee_name or ticket.assignee_user_id} 接手")


def _release(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    ticket = _current(session, customer)
    tickets.release(session, ticket, who, ctx.clock())
    return StaffOutcome(f"工单 {ticket.number} 已放回队列")


def _resolve(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    ticket = _current(session, customer)
    now = ctx.clock()
    tickets.resolve(session, ticket, who, now, argument)
    escalation.after_ticket_ended(session, customer.id)
    language = reply_language("", customer_language(customer), ctx.default_language)
    key, values = ("resolved", {"resolution": argument}) if argument else ("resolved_plain", {})
    text = in_their_script(say(key, language, number=ticket.number, **values), customer.written_language)
    buttons = (tuple(Button(f"{'⭐' * score}", actions.rate(ticket.id, score)) for score in range(1, 6)),)
    contact_id = _record_to_customer(session, customer, text, who, ticket, now, intent=Intent.RATED, actor=Actor.BOT)
    late = " （已超时）" if tickets.resolved_late(ticket) else ""
    return StaffOutcome(
        f"✅ 工单 {ticket.number} 已解决{late}，已请客户评分",
        customer_chat_id=_chat_of(customer),
        customer_replies=[Reply(text, buttons, contact_id=contact_id)],
    )


def _close(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    ticket = _current(session, customer)
    tickets.close(session, ticket, who, ctx.clock())
    escalation.after_ticket_ended(session, customer.id)
    return StaffOutcome(f"工单 {ticket.number} 已关闭")


def _reopen(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    ticket = _current(session, customer)
    now = ctx.clock()
    names = tag_store.tag_names(session, customer.id)
    due = due_time(ctx.complaints.deadlines, now, customer.region, names)
    tickets.reopen(session, ticket, who, now, due_at=due, reason=argument)
    tag_store.add_tag(session, customer.id, tag_store.OPEN_COMPLAINT, source=TagSource.RULE, at=now)
    return StaffOutcome(f"🔁 工单 {ticket.number} 已重新打开，新时限 {local_time(due, ctx.zone)}")


def _tag(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    parts = argument.split()
    if not parts:
        return StaffOutcome("用法：/tag 标签 [value|stage|loyalty|temperament|risk|custom]")
    name, kind_text = parts[0][:64], parts[1] if len(parts) > 1 else None
    kinds = {kind.value for kind in TagKind}
    if kind_text is not None and kind_text not in kinds:
        return StaffOutcome(f"未知的标签类型 {kind_text}，可用：{', '.join(sorted(kinds))}")
    kind = TagKind(kind_text) if kind_text else None
    added = tag_store.add_tag(
        session,
        customer.id,
        name,
        source=TagSource.STAFF,
        at=ctx.clock(),
        kind=kind,
        user_id=who.user_id,
        user_name=who.name,
    )
    _audit(session, customer, "tagged", who, ctx.clock(), name)
    text = f"🏷 已加标签 {name}" if added else f"客户已有标签 {name}"
    changed = _serve_by_tags(session, ctx, who, customer) if added else []
    return StaffOutcome("\n".join([text, *changed]))


def _serve_by_tags(session: Session, ctx: DeskContext, who: Who, customer: Customer) -> list[str]:
    """A priority tag (VIP…) counts for the customer's open tickets too: the shorter deadline and the
    higher priority they would have had if opened now, never a longer deadline or a lower priority."""
    names = tag_store.tag_names(session, customer.id)
    rules, now = ctx.complaints.deadlines, ctx.clock()
    changed = []
    for ticket in tickets.open_tickets_of(session, customer.id):
        # A reopened ticket's promise was made when it reopened.
        started = tickets.last_event_at(session, ticket.id, "reopened") or ticket.opened_at
        due = due_time(rules, started, customer.region, names)
        if due < ticket.due_at and ticket.waiting_since is None:
            tickets.set_due(session, ticket, due, who, now, reason="tag")
            changed.append(f"⏱ 工单 {ticket.number} 新时限 {local_time(due, ctx.zone)}")
        priority = priority_for(names, ctx.complaints.priority_tags)
        if PRIORITY_ORDER[priority] < PRIORITY_ORDER[ticket.priority]:
            tickets.set_priority(session, ticket, priority, who, now)
            changed.append(f"⬆️ 工单 {ticket.number} 优先级 {priority}")
    return changed


def _waiting(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    ticket = _current(session, customer)
    now = ctx.clock()
    if not tickets.wait_for_customer(session, ticket, who, now):
        return StaffOutcome(f"工单 {ticket.number} 已在等待客户回复")
    left = clock_time_between(ctx.complaints.deadlines, now, ticket.due_at)
    hours = f"{left.total_seconds() / 3600:.1f}".rstrip("0").rstrip(".")
    return StaffOutcome(
        f"⏸ 工单 {ticket.number} 等待客户回复：时限暂停（还剩 {hours} 小时），客户发来消息后自动继续计时"
    )


def _untag(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    name = argument.split()[0] if argument else ""
    if not name:
        return StaffOutcome("用法：/untag 标签")
    removed = tag_store.remove_tag(session, customer.id, name)
    if removed:
        _audit(session, customer, "untagged", who, ctx.clock(), name)
    return StaffOutcome(f"已去掉标签 {name}" if removed else f"客户没有标签 {name}")


def _note(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    if not argument:
        return StaffOutcome("用法：/note 备注内容（仅工作人员可见）")
    tickets.add_note(session, _current(session, customer), argument, who, ctx.clock())
    return StaffOutcome("📝 备注已保存（客户看不到）")


def _cause(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    cause = argument.split()[0] if argument else ""
    if not ctx.complaints.known_cause(cause):
        known = "、".join(f"{key}（{labels['zh']}）" for key, labels in CAUSE_LABELS.items())
        return StaffOutcome(f"用法：/cause 原因，可用：{known}")
    ticket = _current(session, customer)
    tickets.set_cause(session, ticket, cause, who, ctx.clock())
    return StaffOutcome(f"工单 {ticket.number} 原因改为 {cause_label(cause)}")


def _priority(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    value = argument.split()[0].lower() if argument else ""
    if value not in {priority.value for priority in Priority}:
        return StaffOutcome("用法：/priority urgent|high|normal|low")
    ticket = _current(session, customer)
    tickets.set_priority(session, ticket, Priority(value), who, ctx.clock())
    return StaffOutcome(f"工单 {ticket.number} 优先级改为 {value}")


def _region(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    if not argument:
        return StaffOutcome("用法：/region 地区（决定之后工单的承诺时限）")
    customer.region = argument[:64]
    ticket = tickets.active_ticket(session, customer.id)
    if ticket is not None:
        ticket.region = customer.region
        _audit(session, customer, "region", who, ctx.clock(), customer.region)
    return StaffOutcome(f"客户地区已设为 {customer.region}（已承诺给客户的时限不变）")


def _link(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    entry_id = argument.split()[0] if argument else ""
    if not entry_id:
        return StaffOutcome("用法：/link 知识条目编号（把客户最近的问题记为这个条目的新问法，经理审核后生效）")
    return StaffOutcome(candidate_phrasings.link_last_question(session, ctx, customer, entry_id, ctx.clock()))


def _history(session: Session, ctx: DeskContext, who: Who, customer: Customer, argument: str) -> StaffOutcome:
    return StaffOutcome(escalation.customer_card(session, ctx.zone, customer))


COMMANDS: dict[str, Callable[[Session, DeskContext, Who, Customer, str], StaffOutcome]] = {
    "take": _take,
    "release": _release,
    "resolve": _resolve,
    "close": _close,
    "reopen": _reopen,
    "tag": _tag,
    "untag": _untag,
    "note": _note,
    "cause": _cause,
    "priority": _priority,
    "region": _region,
    "history": _history,
    "waiting": _waiting,
    "link": _link,
}


def queue_text(session: Session, ctx: DeskContext) -> str:
    """Active tickets, key customers first (they get the front of the queue), then by deadline."""
    items = views.queue(session, ctx)
    if not items:
        return "队列为空：没有待处理的工单。"
    lines = ["待处理工单（重点客户优先，其次按时限）："]
    for item in items:
        late = " ⏸等待客户" if item.waiting else (" ⏰已超时" if item.breached else "")
        lines.append(
            f"{item.number} · {item.customer_name} · {item.cause_label}"
            f" · {item.priority} · 截止 {local_time(item.due_at, ctx.zone)}{late} · {item.assignee or '未分配'}"
        )
    return "\n".join(lines)


def plan_staff_reply(
    session: Session,
    ctx: DeskContext,
    who: Who,
    chat_id: int,
    thread_id: int,
    text: str,
    kind: ContentKind,
    reply_to_staff_message_id: int | None,
) -> RelayPlan | None:
    """Record a staff message for the customer (before it is sent); None when the topic is no customer's."""
    customer = relay.customer_of_topic(session, chat_id, thread_id)
    if customer is None:
        return None
    ticket, contact_id = _answer(session, ctx, who, customer, text, kind)
    target = None
    if reply_to_staff_message_id is not None:
        twin = relay.customer_message_for(session, chat_id, reply_to_staff_message_id)
        target = twin.customer_message_id if twin else None
    return RelayPlan(
        customer.id,
        _chat_of(customer),
        target,
        contact_id,
        ticket.number if ticket else None,
        blocked=customer.blocked_at is not None,
    )


def _answer(
    session: Session, ctx: DeskContext, who: Who, customer: Customer, text: str, kind: ContentKind
) -> tuple[Ticket | None, int | None]:
    """A staff answer to the customer, wherever it was typed: it takes the chat and is recorded, unsent."""
    now = ctx.clock()
    ticket = tickets.active_ticket(session, customer.id) or tickets.latest_ticket(session, customer.id)
    if ticket is not None and ticket.status in ACTIVE_STATUSES:
        # Answering the customer is taking the chat, if nobody holds it yet.
        if ticket.assignee_user_id is None:
            tickets.take(session, ticket, who, now)
        tickets.record_first_response(session, ticket, who, now)
    contact_id = _record_to_customer(session, customer, text, who, ticket, now, intent=Intent.STAFF_REPLY, kind=kind)
    return ticket, contact_id


def reply_from_page(session: Session, ctx: DeskContext, who: Who, customer_id: int, text: str) -> list[Envelope]:
    """A staff member answered from the web console: recorded as any staff answer, queued for the customer.

    There is no staff message to copy, so the words go as a reply; staff in the customer's topic get them too.
    """
    customer = session.get(Customer, customer_id)
    text = text.strip()[: ctx.max_text_chars]
    if customer is None or customer.erased_at is not None or not text:
        return []
    _ticket, contact_id = _answer(session, ctx, who, customer, text, ContentKind.TEXT)
    now = ctx.clock()
    queued = outbox.queue_replies(session, customer.id, _chat_of(customer), [Reply(text, contact_id=contact_id)], now)
    if ctx.staff_available:
        queued.append(outbox.queue_to_topic(session, customer.id, f"🖥 {who.label}：{text}", now))
    return queued


def _record_to_customer(
    session: Session,
    customer: Customer,
    text: str,
    who: Who,
    ticket: Ticket | None,
    now: datetime,
    *,
    intent: Intent,
    actor: Actor = Actor.STAFF,
    kind: ContentKind = ContentKind.TEXT,
) -> int | None:
    return record_contact(
        session,
        customer,
        at=now,
        direction=Direction.OUTBOUND,
        actor=actor,
        kind=kind,
        text=text,
        intent=intent,
        chat_id=_chat_of(customer),
        staff_user_id=who.user_id,
        staff_name=who.name,
        ticket_id=ticket.id if ticket else None,
        # Not delivered until Telegram answers; the outbox clears this when it does.
        delivery_error=PENDING,
    )


def _audit(session: Session, customer: Customer, action: str, who: Who, at: datetime, value: str) -> None:
    ticket = tickets.active_ticket(session, customer.id) or tickets.latest_ticket(session, customer.id)
    if ticket is not None:
        tickets.record_event(session, ticket, action, who, at, new=value)


def _chat_of(customer: Customer) -> int:
    """The customer's chat (0 on a channel without numeric chats, e.g. the console)."""
    return int(customer.external_id) if customer.external_id.lstrip("-").isdigit() else 0


def relay_staff_message(
    session: Session,
    ctx: DeskContext,
    who: Who,
    chat_id: int,
    thread_id: int,
    message_id: int,
    text: str,
    kind: ContentKind,
    reply_to_staff_message_id: int | None,
) -> list[Envelope]:
    """A staff member wrote in a customer's topic: recorded, and queued to be copied to the customer."""
    plan = plan_staff_reply(session, ctx, who, chat_id, thread_id, text, kind, reply_to_staff_message_id)
    if plan is None:
        return []  # a topic that belongs to no customer (e.g. a staff discussion)
    relayed = outbox.queue_relay(
        session,
        plan.customer_id,
        plan.customer_chat_id,
        from_chat_id=chat_id,
        message_id=message_id,
        thread_id=thread_id,
        reply_to=plan.reply_to_message_id,
        contact_id=plan.contact_id,
        at=ctx.clock(),
    )
    return [relayed]


NOT_RELAYED = "这条消息没有发给客户（或客户那里已没有它），修改不会同步；如需更正请另发一条。"


def relay_staff_edit(
    session: Session,
    ctx: DeskContext,
    who: Who,
    chat_id: int,
    thread_id: int,
    message_id: int,
    text: str,
    *,
    caption: bool,
) -> list[Envelope]:
    """A staff member edited a message in a customer's topic: the customer's copy is edited the same way
    (through the relay map), and the correction is recorded as a contact of its own."""
    customer = relay.customer_of_topic(session, chat_id, thread_id)
    if customer is None:
        return []
    now = ctx.clock()
    twin = relay.customer_message_for(session, chat_id, message_id)
    if twin is None or twin.direction != Direction.OUTBOUND:
        return [outbox.queue_notice(session, customer.id, NOT_RELAYED, now)]
    ticket = tickets.active_ticket(session, customer.id) or tickets.latest_ticket(session, customer.id)
    contact_id = _record_to_customer(
        session, customer, text, who, ticket, now, intent=Intent.STAFF_EDIT, kind=ContentKind.EDITED
    )
    return [
        outbox.queue_edit(
            session,
            customer.id,
            twin.customer_chat_id,
            message_id=twin.customer_message_id,
            text=text,
            caption=caption,
            contact_id=contact_id,
            at=now,
        )
    ]
