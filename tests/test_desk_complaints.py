"""The complaint path in the desk, without any channel: VIP service, reopening, rating, the staff queue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crm_store import ContentKind, relay
from crm_store import tags as tag_store
from crm_store.models import Actor, Ticket
from crm_store.tickets import Who
from desk import actions, staff
from desk.complaints import ComplaintPolicy, DeadlineRules
from desk.messages import CustomerRef, Inbound
from desk.service import Desk

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
VIP_ID, PLAIN_ID = "8001", "8002"
POLICY = ComplaintPolicy(
    lexicon=("投诉",),
    causes={"late_delivery": ("没到",)},
    deadlines=DeadlineRules(home_regions=("杭州",), home_hours=12, other_hours=24, tag_hours={"VIP": 4}),
    vip_customers=frozenset({VIP_ID}),
)
STAFF = Who(Actor.STAFF, 900, "客服小王")


def _desk(desk: Desk) -> Desk:
    desk.context = replace(desk.context, complaints=POLICY, clock=lambda: NOW)
    return desk


def _say(user: str, text: str, kind: ContentKind = ContentKind.TEXT, action: str | None = None) -> Inbound:
    ref = CustomerRef("telegram", user, display_name=f"客户{user}", language="zh", chat_id=int(user))
    return Inbound(ref, kind, text, NOW, message_id=1, action=action)


def _tickets(desk: Desk) -> list[Ticket]:
    with desk.store.transaction() as session:
        rows = list(session.scalars(sa.select(Ticket).order_by(Ticket.id)))
        session.expunge_all()
        return rows


async def test_vip_gets_the_shorter_deadline_high_priority_and_the_front_of_the_queue(desk: Desk) -> None:
    desk = _desk(desk)
    await desk.handle(_say(PLAIN_ID, "我要投诉，快递还没到"))
    vip = await desk.handle(_say(VIP_ID, "我要投诉，快递还没到"))
    plain_ticket, vip_ticket = _tickets(desk)
    assert plain_ticket.due_at - NOW == timedelta(hours=24) and plain_ticket.priority == "normal"
    assert vip_ticket.due_at - NOW == timedelta(hours=4) and vip_ticket.priority == "high"
    assert vip.replies and vip_ticket.number in vip.replies[0].text
    queue = await desk.run(staff.queue_text, desk.context)
    assert queue.index(vip_ticket.number) < queue.index(plain_ticket.number)


async def test_a_complaint_after_resolution_reopens_and_a_low_score_tags_at_risk(desk: Desk) -> None:
    desk = _desk(desk)
    first = await desk.handle(_say(PLAIN_ID, "我要投诉"))
    assert first.escalation is not None
    ticket_id = first.escalation.ticket_id
    # Staff resolve it through the topic (the topic is linked as the Telegram adapter would).
    with desk.store.transaction() as session:
        relay.link_topic(session, first.escalation.customer_id, -100, 7, NOW)
    resolved = await desk.run(staff.run_command, desk.context, STAFF, -100, 7, "resolve", "已退款")
    assert "打分" in resolved.customer_replies[0].text
    rate_low = actions.rate(ticket_id, 1)
    rated = await desk.handle(_say(PLAIN_ID, "", ContentKind.BUTTON, rate_low))
    assert rated.staff_notices and rated.customer_id == first.escalation.customer_id
    again = await desk.handle(_say(PLAIN_ID, "", ContentKind.BUTTON, rate_low))
    assert "失效" in again.replies[0].text  # a rating counts once
    reopened = await desk.handle(_say(PLAIN_ID, "还是没解决，我要投诉"))
    assert reopened.escalation is not None and reopened.escalation.ticket_id == ticket_id
    [ticket] = _tickets(desk)
    assert ticket.status == "reopened" and ticket.satisfaction is None
    with desk.store.transaction() as session:
        assert {"at_risk", "open_complaint"} <= tag_store.tag_names(session, ticket.customer_id)


async def test_someone_elses_rating_button_is_refused(desk: Desk) -> None:
    desk = _desk(desk)
    first = await desk.handle(_say(PLAIN_ID, "我要投诉"))
    assert first.escalation is not None
    forged = await desk.handle(_say(VIP_ID, "", ContentKind.BUTTON, actions.rate(first.escalation.ticket_id, 5)))
    assert "失效" in forged.replies[0].text
    [ticket] = _tickets(desk)
    assert ticket.satisfaction is None
