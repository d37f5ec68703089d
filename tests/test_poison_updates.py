"""An update the bot cannot read is kept as a dead letter and confirmed; it never stops the others."""

from __future__ import annotations

import logging

import pytest

from crm_store import Actor, Store, find_or_create_customer
from crm_store.dead_letters import count_dead_letters, record_dead_letter, sender_of
from crm_store.models import DeadLetter
from crm_store.tickets import Who
from crm_store.types import utcnow
from desk.privacy import erase_customer
from tests.bot_harness import eventually, running_bot, stored, texts_sent

CUSTOMER = 6061
# A poll without its required fields: python-telegram-bot cannot build an Update from it, as with a
# field a newer Bot API adds. The bad message carries a customer's words, which must stay out of the log.
UNREADABLE_POLL = {"poll": {"id": "1"}}
SECRET_WORDS = "我的手机号13800138000"
# A message without its date (required): the library cannot build it either.
UNREADABLE_MESSAGE = {
    "message": {
        "message_id": 9,
        "chat": {"id": CUSTOMER, "type": "private"},
        "from": {"id": CUSTOMER},
        "text": SECRET_WORDS,
    }
}


async def test_unreadable_updates_are_kept_and_the_others_answered(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two unreadable updates between two questions: both questions answered, both kept, all confirmed."""
    caplog.set_level(logging.INFO)
    async with running_bot(database_url) as bot:
        bot.fake.push_text(CUSTOMER, "怎么退货")
        poll = bot.fake.push_update(UNREADABLE_POLL)
        message = bot.fake.push_update(UNREADABLE_MESSAGE)
        bot.fake.push_text(CUSTOMER, "退款多久到账")
        await bot.fake.wait_for("sendMessage", 2, chat_id=CUSTOMER)
        await bot.fake.wait_until_drained()
        letters = stored(bot, DeadLetter)
        assert [letter.update_id for letter in letters] == [poll["update_id"], message["update_id"]]
        assert letters[1].external_id == str(CUSTOMER) and SECRET_WORDS in letters[1].raw
        assert all(letter.error for letter in letters)
        assert any("退货" in text for text in texts_sent(bot, CUSTOMER))
    logged = "\n".join(record.getMessage() for record in caplog.records if record.levelno >= logging.INFO)
    assert "dead letter" in logged
    assert SECRET_WORDS not in logged


async def test_a_bot_restarted_after_an_unreadable_update_starts_and_answers(database_url: str) -> None:
    """The unreadable update was confirmed, so the next start does not meet it again."""
    async with running_bot(database_url) as bot:
        bot.fake.push_update(UNREADABLE_POLL)
        bot.fake.push_text(CUSTOMER, "你好")
        await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        await bot.fake.wait_until_drained()
        assert bot.fake.pending_updates == []


def test_a_dead_letter_is_kept_once_and_erased_with_its_customer(store: Store) -> None:
    """Telegram may deliver it again; erasing the customer deletes it, others' stay."""
    now = utcnow()
    with store.transaction() as session:
        customer = find_or_create_customer(
            session, channel="telegram", external_id=str(CUSTOMER), display_name="王芳", username=None,
            language="zh", now=now,
        )  # fmt: skip
        raw = {"update_id": 41, **UNREADABLE_MESSAGE}
        assert record_dead_letter(session, raw, "TypeError", now) is True
        assert record_dead_letter(session, raw, "TypeError", now) is False
        assert record_dead_letter(session, {"update_id": 42, **UNREADABLE_POLL}, "TypeError", now) is True
        erase_customer(session, customer.id, Who(Actor.STAFF, 1, "经理"), now)
        assert count_dead_letters(session) == 1


def test_the_sender_of_an_unreadable_update_is_found_where_telegram_puts_it() -> None:
    """`from` of a message or button, the user of a chat-member change; nothing for a poll."""
    assert sender_of({"update_id": 1, "callback_query": {"from": {"id": 5}}}) == "5"
    assert sender_of({"update_id": 1, "my_chat_member": {"chat": {"id": 7}, "from": {"id": 7}}}) == "7"
    assert sender_of({"update_id": 1, **UNREADABLE_POLL}) is None


async def test_an_update_whose_handling_fails_is_kept_and_the_others_answered(database_url: str) -> None:
    """A bug met by one update (here: the desk raises for one text) must not lose it or stop the rest."""
    async with running_bot(database_url) as bot:
        handle = bot.desk.handle

        async def failing_once(inbound):
            if inbound.text == "触发故障":
                raise RuntimeError("a bug")
            return await handle(inbound)

        bot.desk.handle = failing_once  # type: ignore[method-assign]
        broken = bot.fake.push_text(4101, "触发故障")
        bot.fake.push_text(4102, "怎么退货")
        await bot.fake.wait_for("sendMessage", chat_id=4102)
        await bot.fake.wait_until_drained()
        [kept] = await eventually(lambda: stored(bot, DeadLetter))
        assert kept.update_id == broken["update_id"] and "RuntimeError" in kept.error
        assert "触发故障" in kept.raw  # the whole update is kept, to be replayed or erased
