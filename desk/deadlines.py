"""The promised deadlines, checked periodically: remind staff before, flag a breach after.

Due times, reminders and breaches are rows in the store, so a restart neither forgets a deadline nor
repeats an alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_store import Session, tickets
from crm_store.causes import cause_label
from desk import outbox
from desk.assignment import fill_from_queue, owner_mention, tell_managers
from desk.complaints import clock_time_between, later_by
from desk.context import DeskContext
from desk.dates import local_time
from desk.hours import is_open
from desk.messages import Envelope


@dataclass(frozen=True)
class DeadlineNotice:
    customer_id: int
    ticket_number: str
    text: str
    breached: bool


def sweep_deadlines(session: Session, ctx: DeskContext) -> list[DeadlineNotice]:
    """Reminders and breaches due now; on the working clock only while people are at work to read them."""
    now = ctx.clock()
    rules = ctx.complaints.deadlines
    if rules.hours is not None and not is_open(now, rules.hours):
        return []
    notices = []
    for ticket in tickets.newly_breached(session, now):
        tickets.mark_breached(session, ticket, now)
        owner = owner_mention(session, ticket)
        notices.append(
            DeadlineNotice(
                ticket.customer_id,
                ticket.number or "",
                f"🚨 超时：工单 {ticket.number}（{cause_label(ticket.cause)}）的承诺时限 "
                f"{local_time(ticket.due_at, ctx.zone)} 已过，仍未解决 · 负责人 {owner}",
                breached=True,
            )
        )
    # "An hour before" is an hour of the deadlines' clock: Monday 09:30 is reminded at Monday 09:00.
    for ticket in tickets.due_for_reminder(session, now, later_by(rules, now, ctx.complaints.remind_before)):
        tickets.mark_reminded(session, ticket, now)
        minutes = max(1, int(clock_time_between(rules, now, ticket.due_at).total_seconds() // 60))
        notices.append(
            DeadlineNotice(
                ticket.customer_id,
                ticket.number or "",
                f"⏰ 提醒：工单 {ticket.number} 还有 {minutes} 分钟到期（{local_time(ticket.due_at, ctx.zone)}）",
                breached=False,
            )
        )
    return notices


def sweep_and_queue(session: Session, ctx: DeskContext) -> list[Envelope]:
    """The sweep, with each alert queued for the customer's staff topic in the same transaction."""
    now = ctx.clock()
    notices = sweep_deadlines(session, ctx)
    if not ctx.staff_available:
        return []
    queued = [outbox.queue_notice(session, notice.customer_id, notice.text, now) for notice in notices]
    # A breach also reaches the managers privately (the assignee is named, so notified, in the topic).
    queued += tell_managers(session, ctx, [notice.text for notice in notices if notice.breached])
    # Room may have opened without a staff command (a customer's rating closed a ticket, an erasure).
    return queued + fill_from_queue(session, ctx)
