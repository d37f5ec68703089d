"""One customer contact, end to end inside one unit of work: identify, record, decide, record the answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from time import perf_counter

from crm_store import (
    Actor,
    ContentKind,
    Customer,
    Direction,
    Session,
    find_or_create_customer,
    record_contact,
    tickets,
)
from crm_store.contacts import last_told_at, link_to_ticket
from crm_store.models import Ticket, TicketStatus
from crm_store.outbox import PENDING
from crm_store.tickets import Who
from desk import actions, assignment, candidate_phrasings, escalation, privacy
from desk import held as held_rules
from desk.complaints import is_complaint
from desk.context import DeskContext
from desk.flood import Flow
from desk.intents import Intent
from desk.language import customer_language, in_their_script, reply_language, written_language_of
from desk.messages import Escalation, Inbound, Outcome, Reply
from desk.own_copy import own_copy
from desk.routing import Decision, decide_action, decide_message
from desk.text_input import clean_text
from desk.texts import say
from knowledge.text import normalise


def handle_inbound(session: Session, ctx: DeskContext, inbound: Inbound, flow: Flow = Flow.OK) -> Outcome:
    """Record the customer's contact, decide the answer, record the answer; the caller commits, then sends."""
    started = perf_counter()
    now = ctx.clock()
    customer = _customer_for(session, inbound, now)
    text = clean_text(inbound.text, ctx.max_text_chars)
    # The one normalisation of the message, shared by routing and complaint detection.
    folded = normalise(text)
    if inbound.kind == ContentKind.TEXT:
        _remember_language(customer, text)
    # Without a staff side (console, no staff group configured) nobody could answer a held chat:
    # the ticket is still registered, but the bot keeps answering rather than leave the customer alone.
    held = tickets.active_ticket(session, customer.id) if ctx.staff_available else None
    # Decide first (pure), so each contact is written once, complete.
    decision = (
        _decide(ctx, inbound, customer, text, folded)
        if flow == Flow.OK
        else _decide_flooding(ctx, inbound, customer, text, folded, flow)
    )
    rated = _rated_ticket(session, customer, inbound) if decision.intent == Intent.RATED else None
    if decision.intent == Intent.RATED and rated is None:
        # Someone else's ticket, no such ticket, or rated already: a forged or stale button, logged as such.
        decision = Decision(Intent.STALE_BUTTON, (Reply(say("stale_button", _language(ctx, inbound, customer, ""))),))
    answered_while_held = (Intent.RATED, Intent.PICKED, Intent.SOLVED, Intent.FORGET, Intent.MY_DATA)
    asked = decision.intent
    meanwhile = held is not None and held_rules.answers_meanwhile(held, asked, ctx.hours, now)
    if held is not None and decision.intent not in answered_while_held and not meanwhile:
        # Staff hold this chat: the message goes to the staff topic (a complaint or 转人工 joins the ticket).
        decision = Decision(Intent.RELAYED, ())
    incoming_id = _record_incoming(session, customer, inbound, text, decision, held.id if held else None)
    if incoming_id is None:
        return Outcome(duplicate=True)
    if held is not None and (decision.intent == Intent.RELAYED or meanwhile):
        # The customer wrote (a button press or a /command is not the answer staff wait for).
        resumed = held.waiting_since is not None and inbound.kind not in (ContentKind.BUTTON, ContentKind.COMMAND)
        if resumed:
            due = held_rules.resumed_due(ctx.complaints.deadlines, held, now)
            tickets.resume(session, held, due, Who(Actor.CUSTOMER, name=customer.display_name or None), now)
        note = decision if meanwhile else _note_while_held(session, ctx, customer, inbound, held, asked, flow, resumed)
        replies = []
        if note is not None:
            replies = _record_answers(session, ctx, customer, inbound, incoming_id, note, started, ticket_id=held.id)
        relay = Escalation(
            customer.id,
            held.id,
            held.number or "",
            # A flooding customer's messages are recorded but not all copied: staff are not flooded.
            relay_message=inbound.kind != ContentKind.BUTTON and flow != Flow.QUIET,
            contact_id=incoming_id,
        )
        return Outcome(replies=replies, escalation=relay, customer_id=customer.id, intent=Intent.RELAYED)
    if decision.intent in (Intent.COMPLAINT, Intent.HANDOFF):
        return _escalate(session, ctx, customer, inbound, text, decision, incoming_id, started)
    if decision.intent == Intent.RATED and rated is not None:
        return _rate(session, ctx, customer, inbound, rated, incoming_id, started)
    if decision.intent == Intent.FORGET:
        return _forget(session, ctx, customer, inbound, incoming_id, started)
    if decision.intent == Intent.MY_DATA:
        reply = own_copy(session, customer, _language(ctx, inbound, customer, ""), ctx.clock(), ctx.zone)
        decision = Decision(Intent.MY_DATA, (reply,))
    if decision.intent == Intent.PICKED and decision.entry_id:
        candidate_phrasings.learn_from_pick(session, ctx, customer, decision.entry_id, ctx.clock())
    replies = _record_answers(session, ctx, customer, inbound, incoming_id, decision, started)
    return Outcome(replies=replies, customer_id=customer.id, intent=decision.intent, tier=decision.tier)


def _escalate(
    session: Session,
    ctx: DeskContext,
    customer: Customer,
    inbound: Inbound,
    text: str,
    decision: Decision,
    incoming_id: int,
    started: float,
) -> Outcome:
    language = _language(ctx, inbound, customer, text)
    registered = escalation.register(
        session,
        ctx.complaints,
        ctx.zone,
        customer,
        text=text,
        intent=decision.intent,
        language=language,
        now=ctx.clock(),
        hours=ctx.hours,
    )
    ticket = registered.ticket
    assigned_line, handed_out = assignment.on_new_ticket(session, ctx, ticket)
    link_to_ticket(session, incoming_id, ticket.id)
    answer = Decision(decision.intent, (Reply(registered.customer_text),))
    replies = _record_answers(session, ctx, customer, inbound, incoming_id, answer, started, ticket_id=ticket.id)
    relay = inbound.kind not in (ContentKind.BUTTON, ContentKind.COMMAND)
    handover = Escalation(
        customer.id,
        ticket.id,
        ticket.number or "",
        header=registered.staff_header + assigned_line,
        relay_message=relay,
        contact_id=incoming_id,
    )
    return Outcome(
        replies=replies, escalation=handover, customer_id=customer.id, intent=decision.intent, outbox=handed_out
    )


def _note_while_held(
    session: Session,
    ctx: DeskContext,
    customer: Customer,
    inbound: Inbound,
    held: Ticket,
    asked: Intent,
    flow: Flow,
    resumed: bool,
) -> Decision | None:
    """Never silent: a command gets where the ticket stands, 转人工 that it is with a person already, any
    other message a short acknowledgement unless the customer was told within `ack_minutes` (a restarted
    clock is always told: the deadline moved)."""
    language = _language(ctx, inbound, customer, inbound.text if inbound.kind == ContentKind.TEXT else "")
    if inbound.kind == ContentKind.COMMAND:
        return Decision(Intent.RELAYED, (Reply(say("held", language, number=held.number)),))
    if flow != Flow.OK:
        return None
    text = held_rules.note_while_held(
        held,
        asked,
        last_told=None if resumed else last_told_at(session, held.id),
        ack_every=ctx.complaints.ack_every,
        hours=ctx.hours,
        zone=ctx.zone,
        language=language,
        now=ctx.clock(),
    )
    return Decision(Intent.ACKNOWLEDGED, (Reply(text),)) if text else None


def _rated_ticket(session: Session, customer: Customer, inbound: Inbound) -> tuple[Ticket, int] | None:
    """The customer's own, resolved, not yet rated ticket the button names, with the score; else None."""
    action = actions.parse_action(inbound.action)
    ticket_id, _, score_text = (action.argument if action else "").partition(":")
    ticket = session.get(Ticket, int(ticket_id)) if ticket_id.isdigit() else None
    if ticket is None or ticket.customer_id != customer.id or ticket.rated_at is not None:
        return None
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return None
    return ticket, int(score_text)


def _rate(
    session: Session,
    ctx: DeskContext,
    customer: Customer,
    inbound: Inbound,
    rated: tuple[Ticket, int],
    incoming_id: int,
    started: float,
) -> Outcome:
    language = _language(ctx, inbound, customer, "")
    ticket, score = rated
    notices = escalation.record_rating(session, ctx.complaints, customer, ticket, score, ctx.clock())
    key = "rated_low" if notices else "rated_good"
    answer = Decision(Intent.RATED, (Reply(say(key, language)),))
    replies = _record_answers(session, ctx, customer, inbound, incoming_id, answer, started, ticket_id=ticket.id)
    return Outcome(replies=replies, staff_notices=notices, customer_id=customer.id, intent=Intent.RATED)


def _forget(
    session: Session, ctx: DeskContext, customer: Customer, inbound: Inbound, incoming_id: int, started: float
) -> Outcome:
    """Registered at once, executed only when a manager confirms (/erase in the staff group)."""
    privacy.request_erasure(session, customer, ctx.clock())
    language = _language(ctx, inbound, customer, "")
    answer = Decision(Intent.FORGET, (Reply(say("forget_requested", language)),))
    notice = (
        f"🗑 客户 {customer.display_name or customer.external_id}（编号 {customer.id}）请求删除个人数据。"
        f"经理确认请在员工群发送：/erase {customer.id}"
    )
    replies = _record_answers(session, ctx, customer, inbound, incoming_id, answer, started)
    return Outcome(replies=replies, staff_notices=[notice], customer_id=customer.id, intent=Intent.FORGET)


def _language(ctx: DeskContext, inbound: Inbound, customer: Customer, text: str) -> str:
    spoken = "" if inbound.kind in (ContentKind.COMMAND, ContentKind.BUTTON) else text
    return reply_language(spoken, customer_language(customer), ctx.default_language)


def _remember_language(customer: Customer, text: str) -> None:
    settled = written_language_of(text, customer.written_language)
    # An erased customer's record keeps nothing about them, their language included.
    if settled is not None and customer.erased_at is None and customer.written_language != settled:
        customer.written_language = settled


def _decide(ctx: DeskContext, inbound: Inbound, customer: Customer, text: str, folded: str) -> Decision:
    # A command's Latin name says nothing about the customer's language.
    spoken = "" if inbound.kind == ContentKind.COMMAND else text
    language = reply_language(spoken, customer_language(customer), ctx.default_language)
    if inbound.kind == ContentKind.BUTTON:
        return decide_action(ctx.kb, inbound.action, language)
    return decide_message(
        ctx.kb,
        inbound.kind,
        text,
        language,
        business=ctx.business_name,
        complaint_words=ctx.complaints.lexicon,
        folded=folded,
    )


def _decide_flooding(
    ctx: DeskContext, inbound: Inbound, customer: Customer, text: str, folded: str, flow: Flow
) -> Decision:
    """Too many messages too fast: complaints still escalate; everything else gets one polite note."""
    if inbound.kind == ContentKind.TEXT and is_complaint(folded, ctx.complaints.lexicon):
        return _decide(ctx, inbound, customer, text, folded)
    if flow == Flow.QUIET:
        return Decision(Intent.FLOODED, ())
    language = _language(ctx, inbound, customer, text)
    return Decision(Intent.FLOODED, (Reply(say("slow_down", language)),))


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
    session: Session, customer: Customer, inbound: Inbound, text: str, decision: Decision, ticket_id: int | None
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
        ticket_id=ticket_id,
    )


def _in_their_script(reply: Reply, written_language: str | None) -> Reply:
    """Chinese replies in the customer's own script (Traditional for those who write it), buttons too."""
    buttons = tuple(
        tuple(replace(button, label=in_their_script(button.label, written_language)) for button in row)
        for row in reply.buttons
    )
    return replace(reply, text=in_their_script(reply.text, written_language), buttons=buttons)


def _record_answers(
    session: Session,
    ctx: DeskContext,
    customer: Customer,
    inbound: Inbound,
    incoming_id: int,
    decision: Decision,
    started: float,
    *,
    ticket_id: int | None = None,
) -> list[Reply]:
    now = ctx.clock()
    wait_ms = max(0, int((now - inbound.sent_at).total_seconds() * 1000))
    handling_ms = int((perf_counter() - started) * 1000)
    replies = []
    for answer in decision.replies:
        reply = _in_their_script(answer, customer.written_language)
        contact_id = record_contact(
            session,
            customer,
            at=now,
            direction=Direction.OUTBOUND,
            actor=Actor.BOT,
            kind=ContentKind.DOCUMENT if reply.attachment else ContentKind.TEXT,
            text=reply.text,
            intent=decision.intent,
            entry_id=decision.entry_id,
            score=decision.score,
            tier=decision.tier,
            wait_ms=wait_ms,
            handling_ms=handling_ms,
            reply_to_id=incoming_id,
            chat_id=inbound.customer.chat_id,
            ticket_id=ticket_id,
            # Not delivered until Telegram answers; the outbox clears this when it does.
            delivery_error=PENDING,
        )
        replies.append(Reply(reply.text, reply.buttons, contact_id=contact_id, attachment=reply.attachment))
    return replies
