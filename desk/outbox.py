"""What the desk owes people, as outbox envelopes: queued in the decision's transaction, planned for sending.

Two lanes. The customer lane carries replies and staff answers to one customer's chat, in order. The
staff lane carries everything for the staff group (headers, copies of the customer's messages,
alerts); it is slow (Telegram allows about 20 posts a minute into one group), so it never sits in a
customer's way, and what waits in it for one customer is posted together.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crm_store import ContentKind, Session, find_customer, outbox, relay
from crm_store.models import Customer, Direction, OutboxMessage
from crm_store.privacy import StaffTraces, remember_card
from desk import escalation
from desk.delivery import set_blocked
from desk.messages import Envelope, Inbound, Outcome, Reply

CUSTOMER = "customer"
STAFF = "staff"
# Customer lane: a reply (text and buttons), a staff member's message copied to the customer, or a
# correction of such a copy (the staff member edited their message).
REPLY, RELAY, EDIT = "reply", "relay", "edit"
# Staff lane: text for the customer's topic (opened if missing), the customer's message copied there,
# and an alert that goes to the customer's topic when there is one, else to the group's general topic.
TOPIC, COPY, NOTICE = "topic", "copy", "notice"
# Staff lane: an erased customer's topic deleted (or renamed and emptied) and their posts elsewhere deleted.
ERASE = "erase"
# Room left in a 4096-character post for the lateness line.
POST_CHARS = 3900
CUSTOMER_SAYS = "👤 客户："
TOPIC_NAME_CHARS = 120


def _envelope(row: OutboxMessage) -> Envelope:
    payload = json.loads(row.payload)
    return Envelope(row.id, row.lane, row.kind, row.chat_id, row.customer_id, row.contact_id, payload, row.created_at)


def still_owed(session: Session, envelopes: Sequence[Envelope]) -> list[Envelope]:
    """Those not erased since they were queued."""
    pending = outbox.still_pending(session, [envelope.id for envelope in envelopes])
    return [envelope for envelope in envelopes if envelope.id in pending]


def owed(session: Session, *, update_id: int | None = None, skip: Collection[int] = ()) -> list[Envelope]:
    """Everything still pending (after a restart), or what one redelivered update still owes; not `skip`."""
    return [_envelope(row) for row in outbox.pending(session, update_id=update_id, skip=skip)]


def _queue(session: Session, at: datetime, **fields: Any) -> Envelope:
    outbox_id = outbox.enqueue(session, at=at, **fields)
    return Envelope(
        outbox_id,
        fields["lane"],
        fields["kind"],
        fields.get("chat_id"),
        fields.get("customer_id"),
        fields.get("contact_id"),
        fields["payload"],
        at,
    )


def queue_replies(
    session: Session,
    customer_id: int | None,
    chat_id: int,
    replies: Iterable[Reply],
    at: datetime,
    update_id: int | None = None,
    *,
    staff_message: tuple[int, int] | None = None,
) -> list[Envelope]:
    """Replies for one chat. `staff_message` (staff chat, message id) is the staff command a reply answers
    for (a canned reply): once sent, the relay map links the two, as for a copied staff message."""
    extra = {"staff_message": list(staff_message)} if staff_message else {}
    return [
        _queue(
            session,
            at,
            lane=CUSTOMER,
            kind=REPLY,
            chat_id=chat_id,
            customer_id=customer_id,
            contact_id=reply.contact_id,
            update_id=update_id,
            payload=_reply_payload(reply) | extra,
        )
        for reply in replies
    ]


def _reply_payload(reply: Reply) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "text": reply.text,
        "buttons": [[[button.label, button.action] for button in row] for row in reply.buttons],
    }
    if reply.attachment is not None:
        # The file travels in the row like any reply's words, and is deleted with the customer on erasure.
        payload["file"] = {"name": reply.attachment.filename, "content": reply.attachment.content}
    return payload


def queue_relay(
    session: Session,
    customer_id: int,
    chat_id: int,
    *,
    from_chat_id: int,
    message_id: int,
    thread_id: int,
    reply_to: int | None,
    contact_id: int | None,
    at: datetime,
) -> Envelope:
    """A staff member's message, to be copied to the customer."""
    payload = {"from_chat": from_chat_id, "message_id": message_id, "thread_id": thread_id, "reply_to": reply_to}
    return _queue(
        session, at, lane=CUSTOMER, kind=RELAY, chat_id=chat_id, customer_id=customer_id, contact_id=contact_id,
        payload=payload,
    )  # fmt: skip


def queue_edit(
    session: Session,
    customer_id: int,
    chat_id: int,
    *,
    message_id: int,
    text: str,
    caption: bool,
    contact_id: int | None,
    at: datetime,
) -> Envelope:
    """A staff member's correction, to be made to the customer's copy (`message_id` in their chat)."""
    payload = {"message_id": message_id, "text": text, "caption": caption}
    return _queue(
        session, at, lane=CUSTOMER, kind=EDIT, chat_id=chat_id, customer_id=customer_id, contact_id=contact_id,
        payload=payload,
    )  # fmt: skip


def queue_to_topic(
    session: Session, customer_id: int, text: str, at: datetime, update_id: int | None = None
) -> Envelope:
    return _queue(
        session, at, lane=STAFF, kind=TOPIC, customer_id=customer_id, update_id=update_id, payload={"text": text}
    )


def queue_topic_erasure(session: Session, customer_id: int, traces: StaffTraces, at: datetime) -> Envelope:
    """Carries only ids (no customer_id: nothing about the person, and not dropped with them)."""
    payload = {
        "thread_id": traces.thread_id,
        "name": f"已删除客户 {customer_id}",
        "in_topic": traces.in_topic,
        "elsewhere": traces.elsewhere,
    }
    return _queue(session, at, lane=STAFF, kind=ERASE, payload=payload)


def queue_notice(session: Session, customer_id: int | None, text: str, at: datetime) -> Envelope:
    return _queue(session, at, lane=STAFF, kind=NOTICE, customer_id=customer_id, payload={"text": text})


def queue_copy(
    session: Session,
    customer_id: int,
    *,
    from_chat_id: int,
    message_id: int,
    text: str | None,
    contact_id: int | None,
    at: datetime,
    update_id: int | None = None,
) -> Envelope:
    """The customer's message, for their topic. `text` is set for plain text, which may be posted with others."""
    payload = {"from_chat": from_chat_id, "message_id": message_id, "text": text}
    return _queue(
        session, at, lane=STAFF, kind=COPY, customer_id=customer_id, contact_id=contact_id, update_id=update_id,
        payload=payload,
    )  # fmt: skip


@dataclass(frozen=True)
class Post:
    """One call into the staff group: text carrying one or more envelopes, or one native copy."""

    envelopes: tuple[Envelope, ...]
    text: str | None = None
    copy: Envelope | None = None


def plan_posts(
    card: str | None, envelopes: Sequence[Envelope], late_note: str | None = None, *, coalesce: bool = True
) -> list[Post]:
    """The posts for what waits for one customer's topic.

    Without `coalesce` (the group is keeping up) each item is its own post and the customer's messages
    are native copies, as staff expect. With it (a backlog: Telegram allows ~20 posts a minute into one
    group) the card, headers, alerts and text messages are joined into as few posts as fit; media is
    always copied.
    """
    if not coalesce:
        posts = [Post((), text=card)] if card else []
        posts += [Post((e,), copy=e) if e.kind == COPY else Post((e,), text=_text_of(e)) for e in envelopes]
        return _with_note(posts, late_note)
    posts = []
    texts: list[str] = [card] if card else []
    carried: list[Envelope] = []

    def flush() -> None:
        if texts:
            posts.append(Post(tuple(carried), text="\n\n".join(texts)))
        texts.clear()
        carried.clear()

    for envelope in envelopes:
        text = _text_of(envelope)
        if text is None:
            flush()
            posts.append(Post((envelope,), copy=envelope))
            continue
        if texts and sum(len(t) + 2 for t in texts) + len(text) > POST_CHARS:
            flush()
        texts.append(text)
        carried.append(envelope)
    flush()
    return _with_note(posts, late_note)


def _with_note(posts: list[Post], late_note: str | None) -> list[Post]:
    for index, post in enumerate(posts):
        if late_note and post.text is not None:
            posts[index] = Post(post.envelopes, text=f"{late_note}\n{post.text}")
            break
    return posts


def _text_of(envelope: Envelope) -> str | None:
    if envelope.kind == COPY:
        text = envelope.payload.get("text")
        return f"{CUSTOMER_SAYS}{text}" if text else None
    return str(envelope.payload["text"])


def late_note(oldest: datetime, now: datetime, after_seconds: float = 60.0) -> str | None:
    """Staff must know when Telegram's limits held a message back: how late this post is."""
    late = (now - oldest).total_seconds()
    if late < after_seconds:
        return None
    return f"⏱ 迟到 {int(late // 60)} 分钟（员工群的发送速度受 Telegram 限制）"


def retry_delay(attempt: int, retry_after: float | None, *, base: float = 0.5, cap: float = 60.0) -> float:
    """Exponential backoff, never sooner than Telegram's own retry_after."""
    backoff = min(cap, base * 2 ** (attempt - 1))
    return max(backoff, retry_after or 0.0)


BLOCKED_NOTICE = "⛔ 客户已屏蔽机器人：消息无法送达，工单保持打开，请通过其他方式联系客户。"
UNBLOCKED_NOTICE = "✅ 客户已重新启用机器人，可以在这里继续回复。"
RELAY_BLOCKED = "⛔ 未送达：客户已屏蔽机器人。工单保持打开，请通过其他方式联系客户。"
EDIT_REFUSED = "⚠️ 刚才的修改没有同步给客户（Telegram 拒绝修改：{reason}）。客户看到的仍是原来的内容，请另发一条更正。"


def record_sent(
    session: Session, envelope: Envelope, message_id: int | None, attempts: int, now: datetime, staff_chat_id: int
) -> None:
    """Telegram accepted it: the outbox row, the contact and the relay map say so."""
    erased = not outbox.mark_sent(session, envelope.id, message_id, now, attempts)
    if erased or message_id is None or envelope.customer_id is None:
        return  # an erased customer gets no new relay-map rows
    source = envelope.payload
    # The staff message this one carries to the customer: a copied one, or the command a canned reply answers.
    staff_source = None
    if envelope.kind == RELAY:
        staff_source = (source["from_chat"], source["message_id"])
    elif envelope.kind == REPLY and source.get("staff_message"):
        staff_source = tuple(source["staff_message"])
    if staff_source is not None:
        relay.record_relay(
            session,
            customer_id=envelope.customer_id,
            direction=Direction.OUTBOUND,
            customer_chat_id=envelope.chat_id or 0,
            customer_message_id=message_id,
            staff_chat_id=staff_source[0],
            staff_message_id=staff_source[1],
            contact_id=envelope.contact_id,
            at=now,
        )
    elif envelope.kind == COPY:
        relay.record_relay(
            session,
            customer_id=envelope.customer_id,
            direction=Direction.INBOUND,
            customer_chat_id=source["from_chat"],
            customer_message_id=source["message_id"],
            staff_chat_id=staff_chat_id,
            staff_message_id=message_id,
            contact_id=envelope.contact_id,
            at=now,
        )


def record_refused(
    session: Session, envelope: Envelope, reason: str, attempts: int, *, unreachable: bool, now: datetime, staff: bool
) -> list[Envelope]:
    """It will never arrive: recorded as such; a customer who blocked us is marked and staff are told."""
    outbox.mark_failed(session, envelope.id, reason, attempts)
    if envelope.kind == EDIT and staff and envelope.customer_id is not None and not unreachable:
        # The staff member believes the customer sees the correction: they must hear that they do not.
        return [queue_notice(session, envelope.customer_id, EDIT_REFUSED.format(reason=reason), now)]
    if not unreachable or envelope.lane != CUSTOMER or envelope.customer_id is None:
        return []
    customer = session.get(Customer, envelope.customer_id)
    if customer is None:
        return []
    newly_blocked_with_ticket = set_blocked(session, customer.channel, customer.external_id, blocked=True, now=now)
    if not staff:
        return []
    if envelope.kind in (RELAY, EDIT):
        return [queue_notice(session, customer.id, RELAY_BLOCKED, now)]
    if newly_blocked_with_ticket:
        return [queue_notice(session, customer.id, BLOCKED_NOTICE, now)]
    return []


def topic_or_opening(
    session: Session, customer_id: int, zone: ZoneInfo, *, open_one: bool
) -> tuple[int | None, tuple[str, str] | None]:
    """The customer's topic; else, when one must be opened, its name and the card posted first in it."""
    topic = relay.topic_of(session, customer_id)
    if topic is not None or not open_one:
        return (topic.thread_id if topic else None), None
    customer = session.get_one(Customer, customer_id)
    return None, (topic_name(customer), escalation.customer_card(session, zone, customer))


@dataclass(frozen=True)
class Delivered:
    """Telegram accepted this envelope: with this message id, after so many tries, at this time."""

    envelope: Envelope
    message_id: int | None
    attempts: int
    at: datetime


def record_delivered(session: Session, delivered: Sequence[Delivered], staff_chat_id: int) -> None:
    """Several sends Telegram accepted, marked in one transaction (desk/sent_marks.py collects them)."""
    for one in delivered:
        record_sent(session, one.envelope, one.message_id, one.attempts, one.at, staff_chat_id)


def record_posted(
    session: Session, envelopes: Sequence[Envelope], message_id: int, attempts: int, now: datetime, staff_chat_id: int
) -> None:
    """One post into the staff group carried these envelopes: all of them are sent, in one transaction."""
    for envelope in envelopes:
        record_sent(session, envelope, message_id, attempts, now, staff_chat_id)


def link_topic(session: Session, customer_id: int, chat_id: int, thread_id: int, now: datetime) -> int:
    """Remember the new topic; when another worker linked one first, theirs is the customer's topic."""
    return relay.link_topic(session, customer_id, chat_id, thread_id, now).thread_id


def forget_topic(session: Session, customer_id: int) -> None:
    relay.unlink_topic(session, customer_id)


def record_card(session: Session, customer_id: int, message_id: int) -> None:
    """The card's id, so an erasure can delete it where Telegram will not delete the whole topic."""
    remember_card(session, customer_id, message_id)


def topic_name(customer: Customer) -> str:
    handle = f" @{customer.username}" if customer.username else ""
    return f"{customer.display_name or customer.external_id}{handle} · {customer.external_id}"[:TOPIC_NAME_CHARS]


def chat_of(inbound: Inbound) -> int:
    """The customer's chat on their channel (0 where a channel has no numeric chats, e.g. the console)."""
    ref = inbound.customer
    if ref.chat_id is not None:
        return ref.chat_id
    return int(ref.external_id) if ref.external_id.lstrip("-").isdigit() else 0


def queue_outcome(
    session: Session, inbound: Inbound, outcome: Outcome, *, staff: bool, now: datetime
) -> list[Envelope]:
    """Everything a decision owes, in the decision's own transaction: replies first, then the staff side."""
    if outcome.customer_id is None:
        return []
    queued = queue_replies(session, outcome.customer_id, chat_of(inbound), outcome.replies, now, inbound.update_id)
    if not staff:
        return queued
    handover = outcome.escalation
    if handover is not None:
        if handover.header:
            queued.append(queue_to_topic(session, handover.customer_id, handover.header, now, inbound.update_id))
        if handover.relay_message and inbound.message_id is not None and inbound.kind != ContentKind.BUTTON:
            text = inbound.text if inbound.kind == ContentKind.TEXT else None
            queued.append(
                queue_copy(
                    session,
                    handover.customer_id,
                    from_chat_id=chat_of(inbound),
                    message_id=inbound.message_id,
                    text=text,
                    contact_id=handover.contact_id,
                    at=now,
                    update_id=inbound.update_id,
                )
            )
    queued += [queue_notice(session, outcome.customer_id, notice, now) for notice in outcome.staff_notices]
    return queued


def blocked_change(
    session: Session, channel: str, external_id: str, *, blocked: bool, now: datetime, staff: bool
) -> list[Envelope]:
    """The customer blocked (or unblocked) the bot: recorded; staff holding their ticket are told."""
    if not set_blocked(session, channel, external_id, blocked=blocked, now=now) or not staff:
        return []
    customer = find_customer(session, channel, external_id)
    if customer is None:
        return []
    return [queue_notice(session, customer.id, BLOCKED_NOTICE if blocked else UNBLOCKED_NOTICE, now)]
