"""One customer contact, end to end inside one unit of work: identify, record, decide, record the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store import (
    Actor,
    Contact,
    ContentKind,
    Customer,
    Direction,
    find_or_create_customer,
    record_contact,
    update_already_recorded,
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
    if inbound.update_id is not None and update_already_recorded(session, inbound.update_id):
        return Outcome(duplicate=True)
    customer = _customer_for(session, inbound, ctx.clock())
    text = clean_text(inbound.text, ctx.max_text_chars)
    incoming = _record_incoming(session, customer, inbound, text)
    if incoming is None:
        return Outcome(duplicate=True)
    # A command's Latin name says nothing about the customer's language.
    spoken = "" if inbound.kind == ContentKind.COMMAND else text
    language = reply_language(spoken, customer.language, ctx.default_language)
    if inbound.kind == ContentKind.BUTTON:
        decision = decide_action(ctx.kb, inbound.action, language)
    else:
        decision = decide_message(ctx.kb, inbound.kind, text, language, business=ctx.business_name)
    incoming.intent = decision.intent
    incoming.entry_id, incoming.score, incoming.tier = decision.entry_id, decision.score, decision.tier
    return Outcome(replies=_record_answers(session, ctx, customer, incoming, decision, started))


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


def _record_incoming(session: Session, customer: Customer, inbound: Inbound, text: str) -> Contact | None:
    """The inbound contact, or None when another worker recorded the same update a moment ago."""
    try:
        with session.begin_nested():
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
            )
    except IntegrityError:
        if inbound.update_id is not None and update_already_recorded(session, inbound.update_id):
            return None
        raise


def _record_answers(
    session: Session,
    ctx: DeskContext,
    customer: Customer,
    incoming: Contact,
    decision: Decision,
    started: float,
) -> list[Reply]:
    now = ctx.clock()
    wait_ms = max(0, int((now - incoming.at).total_seconds() * 1000))
    handling_ms = int((perf_counter() - started) * 1000)
    replies = []
    for reply in decision.replies:
        contact = record_contact(
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
            reply_to=incoming,
            chat_id=incoming.chat_id,
        )
        replies.append(Reply(reply.text, reply.buttons, contact_id=contact.id))
    return replies
