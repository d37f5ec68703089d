"""The right to be forgotten: a customer asks (/forget), a manager confirms (/erase, then a button), it is recorded.

Nothing that identifies the person stays: contacts and tickets keep their rows (reports keep their counts)
but lose every word, name and place; tags, notes, candidate phrasings in their words, unreadable updates,
queued messages and the relay map go; their staff topic is deleted (or, where Telegram refuses, renamed
and emptied). The customer row keeps only its id and dates, under an identity no channel will send again,
so the same person writing later is a new, unlinked customer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crm_store import Session
from crm_store import privacy as store
from crm_store.dead_letters import erase_dead_letters
from crm_store.models import Customer, Erasure
from crm_store.outbox import drop_for_customer
from crm_store.privacy import Blanked
from crm_store.tickets import Who
from desk import outbox
from desk.messages import Envelope, Reply
from desk.texts import say
from knowledge.text import normalise

ERASED = "[已删除 erased]"
TELEGRAM = "telegram"
# How long the manager's confirm button stays valid.
CONFIRM_SECONDS = 300
REASON_CHARS = 500


def request_erasure(session: Session, customer: Customer, now: datetime) -> Erasure:
    """Record the request once; asking again while one is pending changes nothing."""
    pending = store.pending_erasure(session, customer.id)
    if pending is not None:
        return pending
    erasure = Erasure(customer_id=customer.id, requested_at=now, contacts_anonymised=0)
    session.add(erasure)
    session.flush()
    return erasure


@dataclass(frozen=True)
class Erased:
    erasure: Erasure
    # The customer's chat before erasure (to tell them), and what must go from the staff group.
    chat_id: int | None
    asked: bool
    traces: store.StaffTraces


def erase_customer(
    session: Session, customer_id: int, who: Who, now: datetime, reason: str | None = None
) -> Erasure | None:
    """Anonymise everything the customer said and everything said about them; None if unknown customer."""
    erased = _erase(session, customer_id, who, now, reason)
    return erased.erasure if erased else None


def _erase(session: Session, customer_id: int, who: Who, now: datetime, reason: str | None) -> Erased | None:
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    telegram_id = int(customer.external_id) if customer.channel == TELEGRAM and customer.external_id.isdigit() else None
    # Read first: the relay map and the outbox say where the staff group shows them, and are deleted next.
    traces = store.staff_traces(session, customer_id)
    store.forget_staff_side(session, customer_id)
    # Queued messages carry their words (copies for staff, replies quoting them): nothing more goes out.
    drop_for_customer(session, customer_id)
    store.forget_phrasings(session, (normalise(text) for text in store.inbound_texts(session, customer_id)))
    contacts = store.anonymise_contacts(session, customer_id, ERASED)
    store.anonymise_tickets(session, customer_id, ERASED, who, now)
    store.drop_tags(session, customer_id)
    store.scrub_exports(session, _names(customer), telegram_id, ERASED)
    # Unreadable updates are keyed by the Telegram user id only: other channels never produce them.
    if telegram_id is not None:
        erase_dead_letters(session, customer.external_id)
    _blank_profile(customer, now)
    pending = store.pending_erasure(session, customer_id)
    erasure = pending or Erasure(customer_id=customer_id, requested_at=now)  # a manager may act without a request
    if pending is None:
        session.add(erasure)
    erasure.confirmed_at, erasure.confirmed_by_user_id, erasure.confirmed_by_name = now, who.user_id, who.name
    erasure.contacts_anonymised = contacts
    erasure.reason = (reason or "")[:REASON_CHARS] or None
    session.flush()
    return Erased(erasure, telegram_id, pending is not None, traces)


def _names(customer: Customer) -> list[str]:
    """Every way a manager's export filter may have named the customer (`customer=<id|@username|name>`)."""
    names = [customer.external_id]
    if customer.username:
        names += [customer.username, f"@{customer.username}"]
    if customer.display_name:
        names.append(customer.display_name)
    return names


def _blank_profile(customer: Customer, now: datetime) -> None:
    customer.display_name, customer.username, customer.region, customer.language = "", None, None, None
    customer.written_language = None
    # No channel will send this identity again: the person's next message creates a new customer.
    customer.external_id = f"erased-{customer.id}"
    customer.erased_at = now


@dataclass(frozen=True)
class Told:
    """An erasure done: how many contacts lost their words, what was queued, who they were on their channel."""

    anonymised: int
    outbox: list[Envelope]
    channel: str
    external_id: str


def erase_and_tell(
    session: Session, customer_id: int, who: Who, now: datetime, reason: str | None = None, *, staff: bool = True
) -> Told | None:
    """Erase the customer; queue the one message they still get, and the clean-up of the staff group."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    channel, external_id = customer.channel, customer.external_id
    language = "en" if (customer.language or "zh").startswith("en") else "zh"
    erased = _erase(session, customer_id, who, now, reason)
    assert erased is not None
    told = []
    if erased.chat_id is not None:
        done = [Reply(say("erased" if erased.asked else "erased_by_shop", language))]
        # Not linked to the erased row: nothing in the store ties their Telegram chat to what they were.
        told = outbox.queue_replies(session, None, erased.chat_id, done, now)
    if staff and erased.traces:
        told.append(outbox.queue_topic_erasure(session, customer_id, erased.traces, now))
    return Told(erased.erasure.contacts_anonymised, told, channel, external_id)


def blank_old_texts(session: Session, now: datetime, keep_days: int) -> Blanked:
    """Retention: words older than `keep_days` go, everywhere they are kept; counts stay for reports."""
    return store.blank_texts_before(session, now - timedelta(days=keep_days))


# -- the manager's two steps -----------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What the manager sees before confirming: who it is, when they last wrote, whether they asked."""

    customer_id: int
    name: str
    last_contact_at: datetime
    asked: bool
    erased: bool


def preview(session: Session, customer_id: int) -> Preview | None:
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    handle = f" @{customer.username}" if customer.username else ""
    name = f"{customer.display_name or customer.external_id}{handle}"
    asked = store.pending_erasure(session, customer_id) is not None
    return Preview(customer_id, name, customer.last_contact_at, asked, customer.erased_at is not None)


def confirmation_text(shown: Preview, reason: str, zone: ZoneInfo) -> str:
    at = shown.last_contact_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    why = "客户本人已申请（/forget）" if shown.asked else f"客户没有申请，原因：{reason}"
    return (
        f"🗑 确认删除客户 {shown.customer_id} 的全部数据？\n"
        f"客户：{shown.name}\n最近联系：{at}\n{why}\n"
        f"删除后无法恢复；按钮 {CONFIRM_SECONDS // 60} 分钟内有效，只有发起的经理可以确认。"
    )


def refusal(shown: Preview | None, customer_id: str, reason: str) -> str | None:
    """Why /erase cannot go on to the confirm step; None when it can."""
    if shown is None:
        return f"没有编号为 {customer_id} 的客户。"
    if shown.erased:
        return f"客户 {customer_id} 的数据已经删除。"
    if not shown.asked and not reason:
        return f"客户 {customer_id} 没有申请删除：请写明原因，例如 /erase {customer_id} 客户来电要求删除"
    return None


@dataclass(frozen=True)
class Offer:
    customer_id: int
    manager_id: int
    reason: str
    expires_at: datetime


class Offers:
    """Confirm buttons waiting for a press. In memory: after a restart the manager simply asks again."""

    def __init__(self) -> None:
        self._offers: dict[str, Offer] = {}

    def make(self, customer_id: int, manager_id: int, reason: str, now: datetime) -> str:
        self._offers = {token: offer for token, offer in self._offers.items() if offer.expires_at > now}
        token = secrets.token_hex(6)
        expires = now + timedelta(seconds=CONFIRM_SECONDS)
        self._offers[token] = Offer(customer_id, manager_id, reason[:REASON_CHARS], expires)
        return token

    def take(self, token: str, user_id: int, now: datetime) -> Offer | str:
        """The offer a press confirms (used up), or why the press does nothing."""
        offer = self._offers.get(token)
        if offer is None or offer.expires_at <= now:
            self._offers.pop(token, None)
            return "这个确认按钮已过期，请重新发送 /erase。"
        if offer.manager_id != user_id:
            return "只有发起删除的经理可以确认。"
        del self._offers[token]
        return offer

    def cancel(self, token: str, user_id: int) -> bool:
        offer = self._offers.get(token)
        if offer is None or offer.manager_id != user_id:
            return False
        del self._offers[token]
        return True
