"""End to end: the real python-telegram-bot Application against the fake Bot API, over real HTTP."""

from __future__ import annotations

import sqlalchemy as sa

from crm_store import Contact, Customer
from desk.intents import Intent
from tests.bot_harness import RunningBot, running_bot

CUSTOMER = 5551


def _contacts(bot: RunningBot) -> list[Contact]:
    with bot.desk.store.transaction() as session:
        return list(session.scalars(sa.select(Contact).order_by(Contact.id)))


def _buttons(call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


async def test_customer_question_is_answered_from_the_knowledge_base(database_url: str) -> None:
    """怎么退货 → the return entry's answer in HTML mode with buttons; both contacts stored with the update id."""
    async with running_bot(database_url) as bot:
        update = bot.fake.push_text(CUSTOMER, "怎么退货")
        [sent] = await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        assert "退货" in sent.params["text"] and sent.params["parse_mode"] == "HTML"
        assert {b["callback_data"] for b in _buttons(sent)} >= {"human"}
        asked, answered = _contacts(bot)
        assert asked.update_id == update["update_id"] and asked.text == "怎么退货"
        assert answered.entry_id == "return-how" and answered.intent == Intent.ANSWERED


async def test_redelivered_update_is_answered_and_recorded_once(database_url: str) -> None:
    """Telegram sending the same update twice yields one reply and one inbound row."""
    async with running_bot(database_url) as bot:
        update = bot.fake.push_text(CUSTOMER, "退款多久到账")
        await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        bot.fake.push_duplicate(update)
        bot.fake.push_text(CUSTOMER, "谢谢")
        await bot.fake.wait_for("sendMessage", 2, chat_id=CUSTOMER)
        inbound = [c for c in _contacts(bot) if c.direction == "in"]
        assert [c.text for c in inbound] == ["退款多久到账", "谢谢"]


async def test_suggestion_button_is_answered_and_recorded(database_url: str) -> None:
    """Pressing a suggestion answers with that entry, stops the spinner, and records the pick."""
    async with running_bot(database_url) as bot:
        bot.fake.push_callback(CUSTOMER, "pick:refund-time")
        await bot.fake.wait_for("answerCallbackQuery")
        [sent] = await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        assert "到账" in sent.params["text"]
        pressed, answered = _contacts(bot)
        assert pressed.kind == "button" and answered.intent == Intent.PICKED and answered.entry_id == "refund-time"


async def test_talk_to_a_person_is_recorded(database_url: str) -> None:
    """The 转人工 button is acknowledged and recorded as a handoff request."""
    async with running_bot(database_url) as bot:
        bot.fake.push_callback(CUSTOMER, "human")
        [sent] = await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        assert "人工" in sent.params["text"]
        assert _contacts(bot)[0].intent == Intent.HANDOFF


async def test_commands_media_and_edits_get_polite_replies(database_url: str) -> None:
    """/start, /help, an unknown command, a sticker, a photo with caption and an edit: each answered, each stored."""
    async with running_bot(database_url) as bot:
        fake = bot.fake
        fake.push_text(CUSTOMER, "/start")
        fake.push_text(CUSTOMER, "/help")
        fake.push_text(CUSTOMER, "/take")
        fake.push_media(CUSTOMER, "sticker")
        fake.push_media(CUSTOMER, "photo", caption="怎么开发票")
        fake.push_edited_text(CUSTOMER, 1, "门店几点开门")
        sent = await fake.wait_for("sendMessage", 6, chat_id=CUSTOMER)
        texts = [call.params["text"] for call in sent]
        assert "欢迎" in texts[0] and "/help" in texts[1] and "不认识" in texts[2]
        assert "文字" in texts[3] and "发票" in texts[4]
        kinds = [c.kind for c in _contacts(bot) if c.direction == "in"]
        assert kinds == ["command", "command", "command", "sticker", "photo", "edited"]


async def test_user_text_is_escaped_for_html(database_url: str) -> None:
    """Text with HTML in it never breaks the message: everything sent is escaped."""
    async with running_bot(database_url) as bot:
        bot.fake.push_text(CUSTOMER, "<b>转人工</b>")
        [sent] = await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        assert "<b>" not in sent.params["text"]
        with bot.desk.store.transaction() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1


async def test_group_messages_are_not_answered_as_customers(database_url: str) -> None:
    """A message in a group the bot does not serve gets no customer answer and no contact."""
    async with running_bot(database_url) as bot:
        bot.fake.push_text(CUSTOMER, "怎么退货", chat_id=-100999, chat_type="supergroup")
        bot.fake.push_text(CUSTOMER, "你好")
        await bot.fake.wait_for("sendMessage", chat_id=CUSTOMER)
        assert not bot.fake.sent("sendMessage", chat_id=-100999)
        assert [c.text for c in _contacts(bot) if c.direction == "in"] == ["你好"]
