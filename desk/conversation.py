"""One customer contact, end to end inside one unit of work: identify, record, decide, record the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter

from sqlalchemy.orm import Session

from crm_store import (
    Actor,
    ContentKind,
    Customer,
    Direction,
    find_or_create_customer,
    record_contact,
)
from desk.language import reply_language
from desk.messages import Inbound, Outcome, Reply
from desk.routing import Decision, decide_action, decide_message
from desk.text_input import clean_text
from knowledge import KnowledgeBase


@dataclass(frozen=True)
class DeskContext:
    """What the decisions need besides the store: the knowledge base, a few settings and a clock."""

    kb: KnowledgeBase
    clock: Callable[[], datetime]
    business_name: str = ""
    default_language: str = "zh"
    max_text_chars: int = 4096


def handle_inbound(session: Session, ctx: DeskContext, inbound: Inbound) -> Outcome:
    """Record the customer's contact, decide the answer, record the answer; the caller commits, then sends."""
    started = perf_counter()
    customer = _customer_for(session, inbound, ctx.clock())
    text = clean_text(inbound.text, ctx.max_text_chars)
    # Decide first (pure), so each contact is written once, complete.
    decision = _decide(ctx, inbound, customer, text)
    incoming_id = _record_incoming(session, customer, inbound, text, decision)
    if incoming_id is None:
        return Outcome(duplicate=True)
    return Outcome(replies=_record_answers(session, ctx, customer, inbound, incoming_id, decision, started))


def _decide(ctx: DeskContext, inbound: Inbound, customer: Customer, text: str) -> Decision:
    # A command's Latin name says nothing about the customer's language.
    spoken = "" if inbound.kind == ContentKind.COMMAND else text
    language = reply_language(spoken, customer.language, ctx.default_language)
    if inbound.kind == ContentKind.BUTTON:
        return decide_action(ctx.kb, inbound.action, language)
    return decide_message(ctx.kb, inbound.kind, text, language, business=ctx.business_name)


def _customer_for(session: Session, inbound: Inbound, now: datetime) -> Customer:
    ref = inbound.customer
    return find_or_create_customer(
        session,
        channel=ref.channel,
        external_id=ref.external_id,
        display_name=ref.display_name,
        username=ref.username,
        language=ref.language,
        now=now,
    )


def _record_incoming(
    session: Session, customer: Customer, inbound: Inbound, text: str, decision: Decision
) -> int | None:
    """The inbound contact's id, or None when this update was recorded before (a redelivery)."""
    return record_contact(
        session,
        customer,
        at=inbound.sent_at,
        direction=Direction.INBOUND,
        actor=Actor.CUSTOMER,
        kind=inbound.kind,
        text=text or (inbound.action or ""),
        update_id=inbound.update_id,
        chat_id=inbound.customer.chat_id,
        message_id=inbound.message_id,
        intent=decision.intent,
        entry_id=decision.entry_id,
        score=decision.score,
        tier=decision.tier,
    )


def _record_answers(
    session: Session,
    ctx: DeskContext,
    customer: Customer,
    inbound: Inbound,
    incoming_id: int,
    decision: Decision,
    started: float,
) -> list[Reply]:
    now = ctx.clock()
    wait_ms = max(0, int((now - inbound.sent_at).total_seconds() * 1000))
    handling_ms = int((perf_counter() - started) * 1000)
    replies = []
    for reply in decision.replies:
        contact_id = record_contact(
            session,
            customer,
            at=now,
            direction=Direction.OUTBOUND,
            actor=Actor.BOT,
            kind=ContentKind.TEXT,
            text=reply.text,
            intent=decision.intent,
            entry_id=decision.entry_id,
            score=decision.score,
            tier=decision.tier,
            wait_ms=wait_ms,
            handling_ms=handling_ms,
            reply_to_id=incoming_id,
            chat_id=inbound.customer.chat_id,
        )
        replies.append(Reply(reply.text, reply.buttons, contact_id=contact_id))
    return replies
