"""The web console's reads on both stores: the queue's order, a customer's whole history, the customers list."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_store import tags as tag_store
from crm_store.models import TagSource
from desk import staff, views
from desk.messages import ContentKind, CustomerRef, Inbound, staff_member
from desk.service import Desk

COMPLAINT = "你们太差了，快递一个星期还没到，我要投诉"


async def _complain(desk: Desk, user_id: int, name: str) -> int:
    ref = CustomerRef("telegram", str(user_id), display_name=name, chat_id=user_id)
    outcome = await desk.handle(Inbound(ref, ContentKind.TEXT, COMPLAINT, datetime.now(UTC), message_id=1))
    assert outcome.customer_id is not None
    return outcome.customer_id


async def test_key_customers_lead_the_queue_and_a_history_holds_messages_answers_notes_and_events(desk: Desk) -> None:
    """A VIP's later ticket comes first; the history interleaves contacts and ticket events in time order."""
    first = await _complain(desk, 5001, "王芳")
    vip = await _complain(desk, 5002, "李雷")
    await desk.run(lambda session: tag_store.add_tag(session, vip, "VIP", source=TagSource.STAFF, at=datetime.now(UTC)))
    queue = await desk.run(views.queue, desk.context)
    assert [item.customer_id for item in queue] == [vip, first]
    assert queue[0].key_customer and not queue[1].key_customer and queue[0].number == "T000002"

    who = staff_member(900, "小王")
    await desk.run(staff.run_page_command, desk.context, who, first, "note", "客户很着急")
    await desk.run(staff.reply_from_page, desk.context, who, first, "马上为您查")
    shown = await desk.run(views.conversation, desk.context, first)
    assert shown is not None and shown.card.name == "王芳" and "open_complaint" in shown.card.tags
    kinds = [item.kind for item in shown.items]
    assert kinds[0] == "customer" and {"bot", "staff", "note", "event"} <= set(kinds)
    assert [item.at for item in shown.items] == sorted(item.at for item in shown.items)
    assert shown.card.notes == ("小王: 客户很着急",) and shown.tickets[0].assignee == "小王"
    assert await desk.run(views.conversation, desk.context, 999_999) is None

    tagged = await desk.run(views.customers, "", "VIP")
    assert [row.id for row in tagged] == [vip]
    assert [row.name for row in await desk.run(views.customers, "王", "")] == ["王芳"]


async def test_a_long_history_pages_back_by_contact_id_without_gaps_or_repeats(desk: Desk) -> None:
    """Pages of `page` contacts, newest first, each one's "earlier" leading to the one before, down to the first;
    each page holds the ticket events of its own stretch of time, and the card its latest notes."""
    customer = await _complain(desk, 5003, "韩梅梅")
    who = staff_member(900, "小王")
    for n in range(7):
        await desk.run(staff.reply_from_page, desk.context, who, customer, f"第{n}条回复")
    await desk.run(staff.run_page_command, desk.context, who, customer, "note", "最新的备注")
    whole = await desk.run(views.conversation, desk.context, customer, page=1000)
    assert whole is not None and whole.earlier is None and not whole.paged_back

    pages, before = [], None
    while True:
        shown = await desk.run(views.conversation, desk.context, customer, before=before, page=3)
        assert shown is not None and shown.card.notes == ("小王: 最新的备注",)
        pages.append(shown.items)
        assert shown.paged_back == (before is not None)
        if shown.earlier is None:
            break
        before = shown.earlier
    contacts = [item for page in reversed(pages) for item in page if item.kind != "event" and item.kind != "note"]
    assert [item.text for item in contacts] == [i.text for i in whole.items if i.kind not in ("event", "note")]
    assert all(len([i for i in page if i.kind not in ("event", "note")]) <= 3 for page in pages)
    events = [item for page in reversed(pages) for item in page if item.kind in ("event", "note")]
    assert sorted(events) == sorted(item for item in whole.items if item.kind in ("event", "note"))
    assert any(item.kind == "note" for item in pages[0]) and len(pages) >= 3
