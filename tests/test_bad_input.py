"""Bad input through the real Application and the fake Bot API: each gets a sensible answer or is ignored on
purpose, nothing crashes, and a customer's private message is always recorded as an inbound contact.

The fake refuses what Telegram refuses (broken HTML, over-long or blank text), so a reply that Telegram would
reject shows up here as a failed call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm_store import Contact, Customer
from crm_store.models import Ticket, TicketEvent
from desk.intents import Intent
from tests.bot_harness import RunningBot, eventually, running_bot

CUSTOMER = 7101
STRANGER_GROUP = -100777
CHANNEL = -100888
GROUP = -1004321
STAFF = 900
SECTIONS = {"roles": {"staff": [STAFF]}, "staff_group": {"chat_id": GROUP}}


@pytest.fixture(autouse=True)
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Never crash: no update may end in the error handler, and no call to Telegram may be refused."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"errors logged: {errors}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """For tests of routing only, where the database makes no difference."""
    return f"sqlite:///{tmp_path / 'crm.sqlite3'}"


def _rows(bot: RunningBot, model, *where) -> list:
    with bot.desk.store.transaction() as session:
        rows = list(session.scalars(sa.select(model).where(*where).order_by(model.id)))
        session.expunge_all()
        return rows


def _inbound(bot: RunningBot) -> list[Contact]:
    return _rows(bot, Contact, Contact.direction == "in")


def _sent_texts(bot: RunningBot, chat_id: int) -> list[str]:
    return [c.params["text"] for c in bot.fake.sent("sendMessage", chat_id=chat_id)]


def _refused_calls(bot: RunningBot) -> list[str]:
    return [f"{c.method} {c.status} {c.params}" for c in bot.fake.calls if not c.ok]


async def _quiet(bot: RunningBot, seconds: float = 0.2) -> None:
    """Wait until the bot has made no call (but polling) for `seconds`: updates of other chats are done too."""

    def busy() -> int:
        return sum(c.method != "getUpdates" for c in bot.fake.calls)

    seen = -1
    while seen != busy():
        seen = busy()
        await asyncio.sleep(seconds)


async def _settled(bot: RunningBot, replies: int, chat_id: int = CUSTOMER) -> list[str]:
    """Wait for `replies` messages to the chat, every update confirmed and the bot quiet; the texts sent."""
    await bot.fake.wait_for("sendMessage", replies, chat_id=chat_id, timeout=10)
    await bot.fake.wait_until_drained()
    await _quiet(bot)
    texts = _sent_texts(bot, chat_id)
    assert len(texts) == replies, texts
    assert not _refused_calls(bot)
    assert all(c.params["parse_mode"] == "HTML" for c in bot.fake.sent("sendMessage"))
    return texts


async def test_empty_and_blank_text_is_answered_and_recorded(database_url: str) -> None:
    """Empty, whitespace-only and zero-width-only messages get the 'empty message' answer; each is recorded."""
    async with running_bot(database_url) as bot:
        pushed = [bot.fake.push_text(CUSTOMER, text) for text in ("", "   \n\t ", "\u200b\u200b\ufeff", "\u3000")]
        texts = await _settled(bot, len(pushed))
        assert all("空消息" in text for text in texts)
        inbound = _inbound(bot)
        assert [c.update_id for c in inbound] == [u["update_id"] for u in pushed]
        assert [(c.kind, c.text, c.intent) for c in inbound] == [("text", "", Intent.EMPTY)] * len(pushed)


async def test_a_4096_character_message_is_stored_whole_and_a_longer_one_is_cut(database_url: str) -> None:
    """The longest message Telegram delivers is stored in full; anything longer is cut at desk.max_text_chars."""
    async with running_bot(database_url) as bot:
        longest = ("我想问一下这个东西的情况" * 400)[:4096]
        bot.fake.push_text(CUSTOMER, longest)
        bot.fake.push_text(CUSTOMER, "长" * 5000)
        await _settled(bot, 2)
        first, second = _inbound(bot)
        assert first.text == longest and len(first.text) == 4096
        assert second.text == "长" * 4096


async def test_control_characters_and_lone_surrogates_are_stored_without_encoding_errors(database_url: str) -> None:
    """NUL, other controls and lone surrogates (valid JSON, invalid UTF-8) in the text and in the sender's name
    are cleaned before storing: PostgreSQL and SQLite both take the row, and the question is still answered."""
    async with running_bot(database_url) as bot:
        update = bot.fake.push_text(
            CUSTOMER,
            "怎么\x00退\x07货\u200b\ud800",
            first_name="王\x00芳\udfff",
            username="wang\ud83d",
        )
        [answer] = await _settled(bot, 1)
        assert "申请售后" in answer  # the return entry, found despite the noise
        [asked] = _inbound(bot)
        assert asked.update_id == update["update_id"] and asked.entry_id == "return-how"
        assert "\x00" not in asked.text and "\x07" not in asked.text
        asked.text.encode("utf-8")
        [customer] = _rows(bot, Customer)
        assert customer.display_name.startswith("王芳")
        customer.display_name.encode("utf-8")
        (customer.username or "").encode("utf-8")


async def test_markup_in_customer_text_and_names_is_escaped_everywhere(database_url: str) -> None:
    """HTML and Markdown in a customer's text and name never become markup: the customer's replies and the staff
    card, which quotes both, are sent in HTML mode with the text escaped, and Telegram accepts every one."""
    injections = ["<b>粗体</b>", '<a href="https://evil.example/">点我</a>', "*bold* _it_ `x`", "</code>", "a & b <"]
    async with running_bot(database_url, **SECTIONS) as bot:
        for text in injections:
            bot.fake.push_text(CUSTOMER, text, first_name="<i>张</i>&三")
        await _settled(bot, len(injections))
        bot.fake.push_text(CUSTOMER, "我要投诉 <b>快递</b> </code>", first_name="<i>张</i>&三")
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        await bot.fake.wait_until_drained()
        await _quiet(bot)
        assert not _refused_calls(bot)
        card, header = _sent_texts(bot, GROUP)
        assert "&lt;i&gt;张&lt;/i&gt;&amp;三" in card and "&lt;/code&gt;" in card
        assert "我要投诉 &lt;b&gt;快递&lt;/b&gt; &lt;/code&gt;" in header
        for call in bot.fake.sent("sendMessage"):
            assert call.params["parse_mode"] == "HTML"
            assert "<" not in call.params["text"], call.params["text"]
        stored = [c.text for c in _inbound(bot)]
        assert stored[: len(injections)] == injections  # stored as the customer wrote it, not escaped


async def test_forged_and_stale_buttons_are_answered_as_stale(database_url: str) -> None:
    """Button data we never made (unknown entry, someone's ticket, garbage, over 64 bytes) stops the spinner,
    answers 'this option is no longer available', is recorded, and changes nothing else."""
    forged = ["pick:nonexistent", "solved:nope", "rate:999:5", "rate:abc:9", "garbage", "pick:", "x" * 65, "人" * 30]
    async with running_bot(database_url) as bot:
        pushed = [bot.fake.push_callback(CUSTOMER, data) for data in forged]
        texts = await _settled(bot, len(forged))
        assert all("失效" in text for text in texts)
        assert len(bot.fake.sent("answerCallbackQuery")) == len(forged)
        inbound = _inbound(bot)
        assert [c.update_id for c in inbound] == [u["update_id"] for u in pushed]
        assert {c.kind for c in inbound} == {"button"}
        answers = _rows(bot, Contact, Contact.direction == "out")
        assert [a.intent for a in answers] == [Intent.STALE_BUTTON] * len(forged)
        assert [a.reply_to_id for a in answers] == [c.id for c in inbound]
        assert _rows(bot, Ticket) == []


async def test_a_forged_rating_is_recorded_as_a_stale_button(sqlite_url: str) -> None:
    """rate:999:5 names a ticket that does not exist: the press is logged as stale, not as a rating."""
    async with running_bot(sqlite_url) as bot:
        bot.fake.push_callback(CUSTOMER, "rate:999:5")
        await _settled(bot, 1)
        [pressed] = _inbound(bot)
        assert pressed.intent == Intent.STALE_BUTTON


async def test_unknown_commands_get_the_help(sqlite_url: str) -> None:
    """Commands the bot does not know, staff commands included, get 'unknown command' and the help."""
    commands = ["/foo", "/FOO bar baz", "/", "/take", "/resolve 已解决", "/queue", "/logs_x", "/help_me"]
    async with running_bot(sqlite_url) as bot:
        for command in commands:
            bot.fake.push_text(CUSTOMER, command)
        texts = await _settled(bot, len(commands))
        assert all("不认识" in text and "/help" in text for text in texts)
        assert [(c.kind, c.intent) for c in _inbound(bot)] == [("command", Intent.UNKNOWN_COMMAND)] * len(commands)


async def test_messages_in_groups_the_bot_does_not_serve_are_ignored(sqlite_url: str) -> None:
    """Text, commands, media and edits in a group nobody configured get no answer and are not recorded."""
    async with running_bot(sqlite_url, **SECTIONS) as bot:
        fake = bot.fake
        first = fake.push_text(CUSTOMER, "怎么退货", chat_id=STRANGER_GROUP, chat_type="supergroup")
        fake.push_text(CUSTOMER, "/start", chat_id=STRANGER_GROUP, chat_type="supergroup")
        fake.push_text(CUSTOMER, "/complain 太差了", chat_id=STRANGER_GROUP, chat_type="group")
        fake.push_media(CUSTOMER, "photo", caption="怎么开发票", chat_id=STRANGER_GROUP)
        fake.push_edited_text(CUSTOMER, first["message"]["message_id"], "我要投诉", chat_id=STRANGER_GROUP)
        fake.push_text(CUSTOMER, "你好")  # the same person in private is answered
        await _settled(bot, 1)
        assert not fake.sent("sendMessage", chat_id=STRANGER_GROUP)
        assert [c.text for c in _inbound(bot)] == ["你好"]
        assert _rows(bot, Ticket) == []


async def test_button_presses_in_groups_the_bot_does_not_serve_are_ignored(sqlite_url: str) -> None:
    """A (forged) button under a message in a stranger group stops the spinner but is not answered there."""
    async with running_bot(sqlite_url, **SECTIONS) as bot:
        bot.fake.push_callback(CUSTOMER, "human", chat_id=STRANGER_GROUP)
        bot.fake.push_text(CUSTOMER, "你好")
        await _settled(bot, 1)
        assert not bot.fake.sent("sendMessage", chat_id=STRANGER_GROUP)
        assert _rows(bot, Ticket) == []
        assert [c.text for c in _inbound(bot)] == ["你好"]


async def test_channel_posts_are_ignored(sqlite_url: str) -> None:
    """Posts and edited posts in a channel (no sender user) are neither answered nor recorded, commands included."""
    async with running_bot(sqlite_url, **SECTIONS) as bot:
        for text in ("怎么退货", "/start", "/logs 7d", "/report", "/take"):
            bot.fake.push_channel_post(CHANNEL, text)
        bot.fake.push_channel_post(CHANNEL, "我要投诉", edited=True)
        bot.fake.push_channel_post(GROUP, "/queue")  # even with the staff group's id
        bot.fake.push_text(CUSTOMER, "你好")
        await _settled(bot, 1)
        assert [c.params["chat_id"] for c in bot.fake.sent("sendMessage")] == [CUSTOMER]
        assert [c.text for c in _inbound(bot)] == ["你好"]


async def test_edits_in_private_are_answered_again_and_recorded(sqlite_url: str) -> None:
    """An edited question is answered as a new one; an edit to blank gets the empty answer; each edit recorded."""
    async with running_bot(sqlite_url) as bot:
        original = bot.fake.push_text(CUSTOMER, "怎么退")
        message_id = original["message"]["message_id"]
        await _settled(bot, 1)
        edits = [bot.fake.push_edited_text(CUSTOMER, message_id, text) for text in ("怎么开发票", "  ", "<b>退款</b>")]
        texts = await _settled(bot, 4)
        assert "发票" in texts[1] and "空消息" in texts[2]
        inbound = _inbound(bot)
        assert [c.update_id for c in inbound[1:]] == [u["update_id"] for u in edits]
        assert [c.kind for c in inbound] == ["text", "edited", "edited", "edited"]
        assert [c.message_id for c in inbound] == [message_id] * 4


async def test_an_edited_staff_command_does_not_run_twice(sqlite_url: str) -> None:
    """Staff editing '/note …' to fix a typo must not add a second note (nor resolve twice, …)."""
    async with running_bot(sqlite_url, **SECTIONS) as bot:
        bot.fake.push_text(CUSTOMER, "我要投诉")
        [copied] = await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        thread = copied.params["message_thread_id"]
        note = bot.fake.push_text(STAFF, "/note 客户着急", chat_id=GROUP, message_thread_id=thread)
        await eventually(lambda: any("备注已保存" in t for t in _sent_texts(bot, GROUP)))
        bot.fake.push_edited_text(STAFF, note["message"]["message_id"], "/note 客户很着急", chat_id=GROUP)
        await bot.fake.wait_until_drained()
        await _quiet(bot)
        notes = [e for e in _rows(bot, TicketEvent) if e.action == "note"]
        assert len(notes) == 1


async def test_media_with_and_without_captions(database_url: str) -> None:
    """A caption is read like text; media without one (or with a blank one) gets the 'text only' answer."""
    async with running_bot(database_url) as bot:
        fake = bot.fake
        fake.push_media(CUSTOMER, "photo", caption="怎么开发票")
        fake.push_media(CUSTOMER, "document", caption="<b>退款多久到账</b>")
        fake.push_media(CUSTOMER, "photo", caption=" \u200b ")
        fake.push_media(CUSTOMER, "sticker")
        fake.push_media(CUSTOMER, "location")
        fake.push_media(CUSTOMER, "voice", caption="长" * 1024)
        texts = await _settled(bot, 6)
        assert "发票" in texts[0] and "到账" in texts[1]
        assert all("文字" in text for text in texts[2:5])
        inbound = _inbound(bot)
        assert [c.kind for c in inbound] == ["photo", "document", "photo", "sticker", "location", "voice"]
        assert [c.intent for c in inbound[2:5]] == [Intent.MEDIA] * 3
        assert inbound[1].text == "<b>退款多久到账</b>" and inbound[5].text == "长" * 1024


async def test_a_button_press_with_a_lone_surrogate_is_recorded_and_answered(database_url: str) -> None:
    """Forged callback data that UTF-8 cannot carry: the press is recorded, cleaned, and answered as stale."""
    async with running_bot(database_url) as bot:
        bot.fake.push_callback(CUSTOMER, "pick:\ud800return-how")
        [answer] = await _settled(bot, 1)
        assert answer
        [pressed] = _inbound(bot)
        assert pressed.kind == "button"
        pressed.text.encode("utf-8")
