"""Replies that carry no text of the customer's (after a button, from staff) follow what the customer writes, not
the app's language setting: many Chinese customers keep their phone in English."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from crm_store import ContentKind, Customer, relay
from crm_store.models import Actor
from crm_store.tickets import Who
from desk import actions, staff
from desk.language import settled_language
from desk.messages import CustomerRef, Inbound
from desk.service import Desk
from desk.texts import say

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
STAFF = Who(Actor.STAFF, 900, "客服小王")


def _from(user: str, app_language: str, text: str = "", action: str | None = None) -> Inbound:
    ref = CustomerRef("telegram", user, display_name=f"客户{user}", language=app_language, chat_id=int(user))
    kind = ContentKind.BUTTON if action else ContentKind.TEXT
    return Inbound(ref, kind, text, NOW, message_id=1, action=action)


def _labels(outcome) -> list[str]:
    return [button.label for reply in outcome.replies for row in reply.buttons for button in row]


def _written_language(desk: Desk, user: str) -> str | None:
    with desk.store.transaction() as session:
        return session.scalar(sa.select(Customer.written_language).where(Customer.external_id == user))


async def test_a_chinese_writer_with_an_english_phone_gets_chinese_after_a_button(desk: Desk) -> None:
    pick = actions.pick("return-how")
    # Nothing typed yet: the app's setting is all we know.
    before = await desk.handle(_from("7001", "en", action=pick))
    assert say("button_human", "en") in _labels(before)
    await desk.handle(_from("7001", "en", "怎么退货"))
    assert _written_language(desk, "7001") == "zh"
    after = await desk.handle(_from("7001", "en", action=pick))
    assert say("button_human", "zh") in _labels(after) and say("button_human", "en") not in _labels(after)


async def test_an_english_writer_with_a_chinese_phone_keeps_english_after_a_button(desk: Desk) -> None:
    await desk.handle(_from("7002", "zh-hans", "how can I get a refund"))
    after = await desk.handle(_from("7002", "zh-hans", action=actions.pick("return-how")))
    assert say("button_solved", "en") in _labels(after)


async def test_a_lone_latin_word_does_not_change_the_remembered_language(desk: Desk) -> None:
    await desk.handle(_from("7003", "en", "会员积分怎么用"))
    await desk.handle(_from("7003", "en", "ok"))
    await desk.handle(_from("7003", "en", "VIP"))
    assert _written_language(desk, "7003") == "zh"
    await desk.handle(_from("7003", "en", "do points expire"))
    assert _written_language(desk, "7003") == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [("怎么退货", "zh"), ("VIP会员", "zh"), ("where is my order", "en"), ("ok", None), ("12345", None), ("👍", None)],
)
def test_settled_language(text: str, language: str | None) -> None:
    assert settled_language(text) == language


async def test_staff_see_what_the_customer_writes_and_the_rating_request_follows_it(desk: Desk) -> None:
    desk.context = replace(desk.context, clock=lambda: NOW)
    first = await desk.handle(_from("7004", "en", "我要投诉，快递还没到"))
    assert first.escalation is not None
    with desk.store.transaction() as session:
        relay.link_topic(session, first.escalation.customer_id, -100, 9, NOW)
    card = await desk.run(staff.run_command, desk.context, STAFF, -100, 9, "history", "")
    assert "语言 en（写中文）" in card.topic_text
    resolved = await desk.run(staff.run_command, desk.context, STAFF, -100, 9, "resolve", "已补发")
    assert "打分" in resolved.customer_replies[0].text
