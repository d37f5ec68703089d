"""Canned replies (快捷回复): the content file with managers' changes above it, filled in and sent.

`/r CODE` in a customer's topic sends the reply exactly as if the staff member had typed it there: the
same recording (`staff.plan_staff_reply`: the contact, taking an unheld ticket, the first response),
then the outbox's customer lane. Only the way it travels differs: a typed message is copied, a canned
one is sent as text, because its words are filled in for this customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_store import Session, relay, tickets
from crm_store import canned as canned_store
from crm_store.models import ACTIVE_STATUSES, ContentKind, Customer, Ticket
from crm_store.tickets import Who
from desk import outbox
from desk.context import DeskContext
from desk.dates import local_time
from desk.language import customer_language, reply_language
from desk.messages import Reply
from desk.staff import StaffOutcome, plan_staff_reply
from knowledge.canned import MAX_TEXT, CannedReply, code_problem, placeholder_problem

USAGE = "用法：/canned list · /canned add 代码 文字 · /canned del 代码（占位符 {customer} {ticket} {deadline} {staff}）"
LIST_CHARS = 60


@dataclass(frozen=True)
class Listed:
    code: str
    text: str
    changed_here: bool


def current_replies(session: Session, ctx: DeskContext) -> dict[str, CannedReply]:
    """The file's replies with the desk's changes applied (added, replaced, removed)."""
    replies = dict(ctx.canned)
    for row in canned_store.changed_replies(session):
        if row.text is None:
            replies.pop(row.code, None)
        else:
            # A reply rewritten in the desk keeps the file's English only if the Chinese is unchanged.
            base = ctx.canned.get(row.code)
            english = base.en if base is not None and base.text == row.text else ""
            replies[row.code] = CannedReply(code=row.code, text=row.text, en=english)
    return replies


def fill(reply: CannedReply, language: str, *, customer: str, ticket: str, deadline: str, staff: str) -> str:
    """The reply's text in `language`, placeholders filled in (validated when the reply was saved)."""
    return reply.template(language).format(customer=customer, ticket=ticket, deadline=deadline, staff=staff)


def matching(replies: dict[str, CannedReply], words: str, limit: int = 20) -> list[CannedReply]:
    """Replies whose code, title or text contains every word (for the inline search); all when no words."""
    terms = [term.lower() for term in words.split()]
    found = [
        reply
        for reply in replies.values()
        if all(term in f"{reply.code} {reply.title} {reply.text} {reply.en}".lower() for term in terms)
    ]
    return found[:limit]


def inline_choices(session: Session, ctx: DeskContext, words: str, limit: int = 20) -> list[CannedReply]:
    """The replies a staff member's inline query (`@botname words`) finds."""
    return matching(current_replies(session, ctx), words, limit)


def manage(session: Session, ctx: DeskContext, who: Who, *, is_manager: bool, argument: str) -> str:
    """/canned list|add|del: the list for all staff; changes for managers only."""
    action, rest = _first_word(argument)
    action = action.lower() or "list"
    if action == "list":
        return list_text(session, ctx)
    if action not in ("add", "del"):
        return USAGE
    if not is_manager:
        return "⛔ 只有经理可以修改快捷回复。"
    code, text = _first_word(rest)
    code = code.lower()
    if code_problem(code):
        return f"代码 {code or '（空）'} 不可用：只能用小写字母、数字和 _ . -，最多 40 个字符。\n{USAGE}"
    now = ctx.clock()
    if action == "del":
        if code not in current_replies(session, ctx):
            return f"没有快捷回复 {code}。"
        if code in ctx.canned:
            canned_store.save_reply(session, code, None, user_id=who.user_id, at=now)
        else:
            canned_store.forget_reply(session, code)
        return f"🗑 已删除快捷回复 {code}。"
    if not text:
        return USAGE
    if len(text) > MAX_TEXT:
        return f"不能保存：快捷回复最多 {MAX_TEXT} 个字符。"
    problem = placeholder_problem(text)
    if problem:
        return f"不能保存：{problem}"
    existed = code in current_replies(session, ctx)
    canned_store.save_reply(session, code, text, user_id=who.user_id, at=now)
    return f"✅ 已{'更新' if existed else '添加'}快捷回复 {code}，在客户话题里发送 /r {code} 使用。"


def list_text(session: Session, ctx: DeskContext) -> str:
    replies = current_replies(session, ctx)
    if not replies:
        return "还没有快捷回复。经理可以用 /canned add 代码 文字 添加。"
    lines = ["快捷回复（在客户话题里发送 /r 代码）："]
    for code in sorted(replies):
        text = replies[code].text.replace("\n", " ")
        lines.append(f"/r {code} — {text if len(text) <= LIST_CHARS else text[: LIST_CHARS - 1] + '…'}")
    return "\n".join(lines)


def send(
    session: Session,
    ctx: DeskContext,
    who: Who,
    *,
    chat_id: int,
    thread_id: int | None,
    message_id: int,
    argument: str,
) -> StaffOutcome:
    """/r CODE in a customer's topic: the filled-in reply, recorded and queued like a typed staff reply."""
    code = _first_word(argument)[0].lower()
    replies = current_replies(session, ctx)
    if not code:
        return StaffOutcome("用法：/r 代码\n\n" + list_text(session, ctx))
    reply = replies.get(code)
    if reply is None:
        return StaffOutcome(f"没有快捷回复 {code}。\n\n" + list_text(session, ctx))
    customer = relay.customer_of_topic(session, chat_id, thread_id) if thread_id else None
    if customer is None or thread_id is None:
        return StaffOutcome("请在客户的话题里使用 /r。")
    language = reply_language("", customer_language(customer), ctx.default_language)
    ticket = _ticket_of(session, customer)
    text = fill(
        reply,
        language,
        customer=customer.display_name or ("顾客" if language == "zh" else "there"),
        ticket=(ticket.number if ticket else None) or "—",
        deadline=local_time(ticket.due_at, ctx.zone, language) if ticket else "—",
        staff=who.name or str(who.user_id or ""),
    )
    plan = plan_staff_reply(session, ctx, who, chat_id, thread_id, text, ContentKind.TEXT, None)
    if plan is None:
        return StaffOutcome("请在客户的话题里使用 /r。")
    envelopes = outbox.queue_replies(
        session,
        plan.customer_id,
        plan.customer_chat_id,
        [Reply(text, contact_id=plan.contact_id)],
        ctx.clock(),
        staff_message=(chat_id, message_id),
    )
    return StaffOutcome(f"📨 已发送快捷回复 {code}：\n{text}", outbox=envelopes)


def _first_word(text: str) -> tuple[str, str]:
    """The first word and the rest, which keeps its own line breaks (a reply may have several lines)."""
    word, *rest = text.split(None, 1) or [""]
    return word, (rest[0].strip() if rest else "")


def _ticket_of(session: Session, customer: Customer) -> Ticket | None:
    ticket = tickets.active_ticket(session, customer.id)
    if ticket is not None and ticket.status in ACTIVE_STATUSES:
        return ticket
    return tickets.latest_ticket(session, customer.id)
