"""Escalation inside one unit of work: register the ticket, tag the customer, tell them by when.

Nothing here talks to a channel; the channel adapter copies messages into the staff topic afterwards,
using the `Escalation` this returns. The ticket is committed before anything is sent, so a failed send
never loses a complaint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crm_store import Session, recent_contacts, tickets
from crm_store import tags as tag_store
from crm_store.causes import cause_label
from crm_store.contacts import count_contacts
from crm_store.models import Actor, Customer, TagSource, Ticket, TicketStatus
from crm_store.tickets import Who
from desk.complaints import ComplaintPolicy, due_time, priority_for
from desk.dates import local_time
from desk.hours import BusinessHours, is_open, next_open
from desk.intents import Intent
from desk.roster import roster_line
from desk.texts import say

CARD_CONTACTS = 10


@dataclass(frozen=True)
class Registered:
    ticket: Ticket
    customer_text: str
    staff_header: str


def register(
    session: Session,
    policy: ComplaintPolicy,
    zone: ZoneInfo,
    customer: Customer,
    *,
    text: str,
    intent: Intent,
    language: str,
    now: datetime,
    hours: BusinessHours | None = None,
) -> Registered:
    """Open a ticket (or reopen the last one, as configured) for a complaint or a request for a person."""
    who = Who(Actor.CUSTOMER, name=customer.display_name or None)
    names = apply_customer_rules(session, policy, customer, now)
    cause = policy.cause_of(text)
    reopened = _reopenable(session, policy, customer, intent, cause, now)
    if reopened is not None:
        due = due_time(policy.deadlines, now, customer.region, names)
        tickets.reopen(session, reopened, who, now, due_at=due, reason=text[:500])
        ticket, key = reopened, "reopened_ack"
    else:
        ticket = tickets.open_ticket(
            session,
            customer_id=customer.id,
            cause=cause,
            priority=priority_for(names, policy.priority_tags),
            region=customer.region,
            summary=text or intent.value,
            opened_at=now,
            due_at=due_time(policy.deadlines, now, customer.region, names),
            who=who,
        )
        key = "complaint_ack" if intent == Intent.COMPLAINT else "handoff_ack"
    tag_store.add_tag(session, customer.id, tag_store.OPEN_COMPLAINT, source=TagSource.RULE, at=now)
    since = now - timedelta(days=policy.repeat_days)
    if tickets.count_tickets_since(session, customer.id, since) >= policy.repeat_count:
        tag_store.add_tag(session, customer.id, tag_store.REPEAT_COMPLAINANT, source=TagSource.RULE, at=now)
    away = hours is not None and not is_open(now, hours)
    if away and key == "handoff_ack":
        key = "handoff_away"
    customer_text = say(
        key,
        language,
        number=ticket.number,
        cause=cause_label(ticket.cause, language),
        due=local_time(ticket.due_at, zone, language),
    )
    if away and hours is not None:
        back = local_time(next_open(now, hours), zone, language)
        customer_text += "\n" + say("away", language, back=back)
    return Registered(ticket, customer_text, ticket_header(ticket, zone, reopened=reopened is not None))


def _reopenable(
    session: Session, policy: ComplaintPolicy, customer: Customer, intent: Intent, cause: str, now: datetime
) -> Ticket | None:
    """The ticket a complaint continues: the last one, ended within reopen_days, about the same cause.
    Another cause is another problem: it gets its own ticket, so the cause statistics stay true."""
    if not policy.reopen_after_resolution or intent != Intent.COMPLAINT:
        return None
    last = tickets.latest_ticket(session, customer.id)
    if last is None or last.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED) or last.cause != cause:
        return None
    ended = last.resolved_at or last.closed_at
    return last if ended is not None and now - ended <= timedelta(days=policy.reopen_days) else None


def apply_customer_rules(session: Session, policy: ComplaintPolicy, customer: Customer, now: datetime) -> set[str]:
    """Tags set by rules (VIP from config, new customer); returns all the customer's tag names."""
    if customer.external_id in policy.vip_customers:
        tag_store.add_tag(session, customer.id, tag_store.VIP, source=TagSource.CONFIG, at=now)
    if now - customer.first_contact_at <= timedelta(days=policy.new_customer_days):
        tag_store.add_tag(session, customer.id, tag_store.NEW, source=TagSource.RULE, at=now)
    else:
        tag_store.remove_tag(session, customer.id, tag_store.NEW)
    return tag_store.tag_names(session, customer.id)


def after_ticket_ended(session: Session, customer_id: int) -> None:
    """No active ticket left: the customer no longer has an open complaint."""
    if tickets.active_ticket(session, customer_id) is None:
        tag_store.remove_tag(session, customer_id, tag_store.OPEN_COMPLAINT)


def ticket_header(ticket: Ticket, zone: ZoneInfo, *, reopened: bool = False) -> str:
    mark = "🔁 重新打开" if reopened else "🆕 新工单"
    return (
        f"{mark} {ticket.number} · {cause_label(ticket.cause)} ({ticket.cause}) · 优先级 {ticket.priority}\n"
        f"承诺时限：{local_time(ticket.due_at, zone)}\n"
        f"客户原话：{ticket.summary}"
    )


def _writes(customer: Customer) -> str:
    """Staff reply in the language the customer writes, which the app setting does not always show."""
    return {"zh": "（写中文）", "zh-hant": "（写繁体中文，回复会自动转为繁体）", "en": "（写英文）"}.get(
        customer.written_language or "", ""
    )


def customer_card(session: Session, zone: ZoneInfo, customer: Customer) -> str:
    """What staff see when they take a chat over: profile, tags, open tickets, the last contacts."""
    contacts_total = count_contacts(session, customer.id)
    lines = [
        f"👤 {customer.display_name or '—'}" + (f" (@{customer.username})" if customer.username else ""),
        f"ID {customer.channel}:{customer.external_id} · 语言 {customer.language or '—'}{_writes(customer)}"
        f" · 地区 {customer.region or '—'}",
        f"首次联系 {local_time(customer.first_contact_at, zone)} · 最近 {local_time(customer.last_contact_at, zone)}"
        f" · 共 {contacts_total} 条记录",
    ]
    if customer.blocked_at:
        lines.append(f"⛔ 客户已屏蔽机器人（{local_time(customer.blocked_at, zone)}），消息无法送达")
    tags = tag_store.tags_of(session, customer.id)
    lines.append("🏷 标签：" + ("、".join(f"{t.tag.name}[{t.source}]" for t in tags) if tags else "无"))
    open_tickets = tickets.open_tickets_of(session, customer.id)
    for ticket in open_tickets:
        assignee = ticket.assignee_name or ticket.assignee_user_id or "未分配"
        waiting = " · ⏸ 等待客户回复（时限暂停）" if ticket.waiting_since else ""
        lines.append(
            f"📋 {ticket.number} {ticket.status} · {cause_label(ticket.cause)} · {ticket.priority}"
            f" · 截止 {local_time(ticket.due_at, zone)} · {assignee}{waiting}"
        )
    if not open_tickets:
        lines.append("📋 无进行中的工单")
    lines.append(roster_line(session))
    notes = _recent_notes(session, customer.id)
    lines.extend(f"📝 {note}" for note in notes)
    lines.append("— 最近记录 —")
    for contact in recent_contacts(session, customer.id, CARD_CONTACTS):
        who = contact.staff_name or contact.actor
        arrow = "←" if contact.direction == "in" else "→"
        text = contact.text if len(contact.text) <= 80 else contact.text[:79] + "…"
        lines.append(f"{local_time(contact.at, zone)} {arrow} {who}: {text}")
    return "\n".join(lines)


def _recent_notes(session: Session, customer_id: int, limit: int = 3) -> list[str]:
    return [
        f"{event.actor_name or event.actor}: {event.detail}"
        for event in tickets.recent_notes(session, customer_id, limit)
    ]


def record_rating(
    session: Session, policy: ComplaintPolicy, customer: Customer, ticket: Ticket, score: int, now: datetime
) -> list[str]:
    """The customer's score closes the loop (EOAC); a low one tags them at risk and returns staff alerts."""
    who = Who(Actor.CUSTOMER, name=customer.display_name or None)
    tickets.rate(session, ticket, score, who, now)
    if score <= policy.low_score:
        tag_store.add_tag(session, customer.id, tag_store.AT_RISK, source=TagSource.RULE, at=now)
        return [f"⚠️ 低分预警：客户给工单 {ticket.number} 打了 {score} 分，已标记为 at_risk，请尽快回访。"]
    if ticket.status == TicketStatus.RESOLVED:
        tickets.close(session, ticket, who, now)
    return []
