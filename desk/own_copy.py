"""A customer's own copy of what we hold about them (/mydata): a JSON file they can read, once a day.

Their profile, their messages and our replies, their tickets and tags. Staff notes and the audit trail are
the shop's internal working papers and are not included; staff are named by role, not by name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_store import Session
from crm_store import privacy as store
from crm_store.exports import record_export
from crm_store.models import Actor, Contact, Customer, CustomerTag, Ticket
from crm_store.tags import tags_of
from desk.messages import Attachment, Reply
from desk.texts import say

ABOUT = [
    "这是本店客服保存的关于您的数据副本。Your copy of the data our customer service holds about you.",
    "profile 个人资料 · messages 您的消息和我们的回复 · tickets 工单 · tags 标签",
    "时间为本店时区。Times are in the shop's time zone.",
    "如需删除，请在聊天中发送 /forget。To have it erased, send /forget in the chat.",
]
WHO = {Actor.CUSTOMER: "您 you", Actor.BOT: "机器人 bot", Actor.STAFF: "客服 staff", Actor.SYSTEM: "系统 system"}


def own_copy(session: Session, customer: Customer, language: str, now: datetime, zone: ZoneInfo) -> Reply:
    """The copy as a reply with its file, recorded as an export by the data subject; or why not today."""
    last = store.last_copy_at(session, customer.id)
    if last is not None and next_copy_day(last, zone) > now.astimezone(zone).date():
        return Reply(say("my_data_again", language, day=next_copy_day(last, zone).isoformat()))
    contacts = store.contacts_of(session, customer.id)
    content = copy_document(customer, contacts, store.tickets_of(session, customer.id), tags_of(session, customer.id),
                            now, zone)  # fmt: skip
    requester = int(customer.external_id) if customer.external_id.isdigit() else None
    record_export(
        session, at=now, what=store.MY_DATA, channel=customer.channel, filters=f"customer={customer.id}",
        rows=len(contacts), format="json", user_id=requester,
    )  # fmt: skip
    filename = f"mydata_{now.astimezone(zone):%Y-%m-%d}.json"
    return Reply(say("my_data", language), attachment=Attachment(filename, content))


def next_copy_day(last: datetime, zone: ZoneInfo) -> date:
    """One copy a calendar day (the shop's): the day after the last copy."""
    return last.astimezone(zone).date() + timedelta(days=1)


def copy_document(
    customer: Customer,
    contacts: Sequence[Contact],
    tickets: Sequence[Ticket],
    tags: Sequence[CustomerTag],
    now: datetime,
    zone: ZoneInfo,
) -> str:
    def local(at: datetime | None) -> str | None:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if at else None

    document = {
        "about": ABOUT,
        "generated_at": local(now),
        "profile": {
            "name": customer.display_name,
            "username": customer.username,
            "language": customer.language,
            "region": customer.region,
            "first_contact": local(customer.first_contact_at),
            "last_contact": local(customer.last_contact_at),
        },
        "messages": [
            {"at": local(c.at), "from": WHO.get(Actor(c.actor), c.actor), "kind": c.kind, "text": c.text}
            for c in contacts
        ],
        "tickets": [
            {
                "number": t.number,
                "opened": local(t.opened_at),
                "status": t.status,
                "cause": t.cause,
                "summary": t.summary,
                "resolution": t.resolution,
                "satisfaction": t.satisfaction,
            }
            for t in tickets
        ],
        "tags": [tag.tag.name for tag in tags],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
