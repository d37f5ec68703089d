"""The desk without any channel: every contact is recorded before the reply, tiers, buttons, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from crm_store import Contact, ContentKind, Customer
from desk import actions
from desk.intents import Intent
from desk.messages import CustomerRef, Inbound
from desk.service import Desk

ALICE = CustomerRef(channel="telegram", external_id="1001", display_name="李雷", language="zh-hans", chat_id=1001)


def _say(text: str, *, update_id: int | None = None, kind: ContentKind = ContentKind.TEXT, action=None) -> Inbound:
    return Inbound(ALICE, kind, text, datetime.now(UTC), update_id=update_id, message_id=1, action=action)


def _contacts(desk: Desk) -> list[Contact]:
    with desk.store.transaction() as session:
        return list(session.scalars(sa.select(Contact).order_by(Contact.id)))


async def test_a_clear_question_is_answered_and_both_contacts_recorded(desk: Desk) -> None:
    """怎么退货 gets the return entry's answer; the question and the answer are both in the store."""
    outcome = await desk.handle(_say("怎么退货", update_id=1))
    assert "申请售后" in outcome.replies[0].text
    asked, answered = _contacts(desk)
    assert (asked.direction, asked.actor, asked.text, asked.update_id) == ("in", "customer", "怎么退货", 1)
    assert (answered.direction, answered.actor, answered.intent) == ("out", "bot", Intent.ANSWERED)
    assert answered.entry_id == "return-how" and answered.tier == "answer" and answered.score > 0.5
    assert answered.reply_to_id == asked.id and answered.wait_ms is not None and answered.handling_ms is not None
    assert outcome.replies[0].contact_id == answered.id


async def test_an_answer_always_offers_a_person(desk: Desk) -> None:
    """Under every knowledge answer there is a 'talk to a person' button."""
    outcome = await desk.handle(_say("退款多久到账"))
    actions_shown = [b.action for row in outcome.replies[0].buttons for b in row]
    assert actions.human() in actions_shown


async def test_nonsense_gets_no_answer_and_a_way_to_a_person(desk: Desk) -> None:
    """A question the knowledge base cannot answer is said so, with the handoff button, and logged as such."""
    outcome = await desk.handle(_say("火星上的天气怎么样"))
    reply = outcome.replies[0]
    assert "没有找到" in reply.text
    assert [b.action for row in reply.buttons for b in row] == [actions.human()]
    assert _contacts(desk)[-1].intent == Intent.NO_ANSWER


async def test_picking_a_suggestion_answers_and_records_the_entry(desk: Desk) -> None:
    """A pressed suggestion button is answered with that entry and recorded as picked."""
    outcome = await desk.handle(_say("", kind=ContentKind.BUTTON, action=actions.pick("invoice-how")))
    assert "申请发票" in outcome.replies[0].text
    pressed, answered = _contacts(desk)
    assert pressed.kind == "button" and pressed.text == "pick:invoice-how"
    assert answered.intent == Intent.PICKED and answered.entry_id == "invoice-how"


async def test_forged_or_stale_buttons_are_refused_politely(desk: Desk) -> None:
    """Button data we never made, or naming a removed entry, gets the 'option expired' reply."""
    for data in ("pick:no-such-entry", "drop table", "x" * 200, None):
        outcome = await desk.handle(_say("", kind=ContentKind.BUTTON, action=data))
        assert "失效" in outcome.replies[0].text
    assert {c.intent for c in _contacts(desk)} == {Intent.STALE_BUTTON}


async def test_asking_for_a_person_opens_a_ticket_and_staff_then_hold_the_chat(desk: Desk) -> None:
    """转人工 registers a ticket with a deadline; later messages go to staff, the bot stays quiet."""
    typed = await desk.handle(_say("转人工"))
    assert "人工" in typed.replies[0].text and "T0000" in typed.replies[0].text
    assert typed.escalation is not None and typed.escalation.header and "T0000" in typed.escalation.header
    later = await desk.handle(_say("我的订单号是 12345"))
    assert later.replies == [] and later.escalation is not None and later.escalation.relay_message
    assert later.escalation.ticket_id == typed.escalation.ticket_id
    inbound = [c for c in _contacts(desk) if c.direction == "in"]
    assert [c.intent for c in inbound] == [Intent.HANDOFF, Intent.RELAYED]
    assert {c.ticket_id for c in inbound} == {typed.escalation.ticket_id}


async def test_the_handoff_button_opens_a_ticket_too(desk: Desk) -> None:
    pressed = await desk.handle(_say("", kind=ContentKind.BUTTON, action=actions.human()))
    assert "人工" in pressed.replies[0].text and pressed.escalation is not None
    assert not pressed.escalation.relay_message  # nothing of the customer's to copy


async def test_a_redelivered_update_is_recorded_once(desk: Desk) -> None:
    """The same update_id twice: the second is a duplicate, nothing new is stored or sent."""
    await desk.handle(_say("怎么退货", update_id=77))
    again = await desk.handle(_say("怎么退货", update_id=77))
    assert again.duplicate and again.replies == []
    assert len(_contacts(desk)) == 2


async def test_commands_start_help_and_unknown(desk: Desk) -> None:
    """/start welcomes by business name, /help explains, an unknown command gets the help."""
    start = await desk.handle(_say("/start", kind=ContentKind.COMMAND))
    unknown = await desk.handle(_say("/take", kind=ContentKind.COMMAND))
    assert "测试商城" in start.replies[0].text
    assert "不认识" in unknown.replies[0].text and "/help" in unknown.replies[0].text


async def test_english_is_answered_in_english(desk: Desk) -> None:
    """An English question gets the English entry, and English button labels."""
    outcome = await desk.handle(_say("how do I return an item"))
    assert "After-sales" in outcome.replies[0].text
    assert "🙋 Talk to a person" in [b.label for row in outcome.replies[0].buttons for b in row]


async def test_bad_input_is_cleaned_and_bounded(desk: Desk) -> None:
    """Empty text, control characters, broken surrogates and huge messages are stored safely."""
    empty = await desk.handle(_say("   \n\t "))
    assert "空消息" in empty.replies[0].text
    await desk.handle(_say("退\x00货\ud800" + "好" * 10_000))
    stored = [c.text for c in _contacts(desk) if c.direction == "in"]
    assert stored[0] == ""
    assert "\x00" not in stored[1] and "\ud800" not in stored[1] and len(stored[1]) == 4096


async def test_media_without_caption_gets_a_polite_reply(desk: Desk) -> None:
    """A sticker or photo without text is recorded with its kind and answered politely."""
    outcome = await desk.handle(_say("", kind=ContentKind.STICKER))
    assert "文字" in outcome.replies[0].text
    assert _contacts(desk)[0].kind == "sticker"


async def test_one_customer_row_per_person(desk: Desk) -> None:
    """Many contacts from one person keep one customer row."""
    for text in ("你好", "怎么退货", "谢谢"):
        await desk.handle(_say(text))
    with desk.store.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
