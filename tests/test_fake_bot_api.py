"""The fake Bot API must behave like the real one as seen by the REAL python-telegram-bot.

No mocks: every test drives ``telegram.Bot`` / ``telegram.ext.Application`` over HTTP.
Error matches are case-insensitive because PTB strips "Bad Request: " and capitalises the rest.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.fake_bot_api import FakeBotApi, FakeBotApiThread, bypass_proxy_for_loopback

bypass_proxy_for_loopback()

USER = 1001
GROUP = -1001234567890


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as real_bot:
        yield real_bot


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else value


async def test_get_me_returns_the_configured_bot(fake: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "kefu_test_bot", True)
    assert fake.sent("getMe")


async def test_wrong_token_is_unauthorized(fake: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        await Bot("999:WRONG", base_url=fake.base_url).get_me()


async def test_send_message_is_recorded_with_decoded_params(fake: FakeBotApi, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("满意", callback_data="rate:5")]])
    msg = await bot.send_message(USER, "<b>你好</b>", parse_mode=ParseMode.HTML, reply_markup=markup)

    assert msg.message_id == 1 and msg.chat.id == USER and msg.from_user.id == fake.bot_id
    assert msg.text == "<b>你好</b>" and msg.reply_markup == markup
    assert abs(msg.date.timestamp() - dtm.datetime.now().timestamp()) < 5
    [call] = await fake.wait_for("sendMessage", chat_id=USER)
    assert call.params["chat_id"] == USER and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "满意", "callback_data": "rate:5"}]]}
    # Digits-only text stays a string (it is not JSON-decoded), and ids increment per chat.
    assert (await bot.send_message(USER, "123")).text == "123"
    assert (await bot.send_message(USER, "x")).message_id == 3
    assert (await bot.send_message(USER + 1, "x")).message_id == 1


async def test_unknown_method_is_bad_request_not_invalid_token(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)method not found"):
        await bot.do_api_request("noSuchMethod")


@pytest.mark.filterwarnings("ignore:.*retry_after.*timedelta")  # PTB 22's int -> timedelta transition
async def test_fail_next_429_raises_retry_after_then_recovers(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "hi")
    assert _seconds(info.value.retry_after) == 7
    await bot.send_message(USER, "hi")
    assert [c.status for c in fake.sent(include_failed=True)] == [429, 200]
    assert len(fake.sent()) == 1


async def test_fail_next_5xx_is_network_error_and_scoped_by_chat(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next("sendMessage", error_code=502, description="Bad Gateway", chat_id=USER, times=2)
    await bot.send_message(USER + 1, "other chat is unaffected")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "hi")
    await bot.send_message(USER, "hi")


async def test_blocked_user_is_forbidden(fake: FakeBotApi, bot: Bot) -> None:
    fake.block_user(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    fake.push_my_chat_member(USER, "member")  # the user unblocked the bot
    await bot.send_message(USER, "hi")


async def test_forum_topics_and_thread_not_found(fake: FakeBotApi, bot: Bot) -> None:
    topic = await bot.create_forum_topic(GROUP, "张三 #1001")
    assert fake.topics[GROUP] == {topic.message_thread_id: "张三 #1001"}
    msg = await bot.send_message(GROUP, "新工单", message_thread_id=topic.message_thread_id)
    assert msg.message_thread_id == topic.message_thread_id and msg.is_topic_message

    await bot.edit_forum_topic(GROUP, topic.message_thread_id, name="张三 #1001 ✅")
    await bot.close_forum_topic(GROUP, topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_CLOSED"):
        await bot.send_message(GROUP, "x", message_thread_id=topic.message_thread_id)
    await bot.reopen_forum_topic(GROUP, topic.message_thread_id)

    fake.delete_topic(GROUP, topic.message_thread_id)  # a human deleted it
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(GROUP, "x", message_thread_id=topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(GROUP, "x", message_thread_id=424242)
    with pytest.raises(BadRequest, match=r"(?i)not a forum"):
        await bot.create_forum_topic(USER, "private chats have no topics")


async def test_send_document_bytes_is_stored_and_downloadable(fake: FakeBotApi, bot: Bot) -> None:
    csv = "id,name\n1,张三\n".encode()
    msg = await bot.send_document(USER, csv, filename="report.csv", caption="日报")
    [call] = fake.sent("sendDocument")
    upload = call.files["document"]
    assert upload.filename == "report.csv" and upload.content == csv
    assert msg.document.file_name == "report.csv" and msg.document.file_size == len(upload.content)
    assert msg.caption == "日报"
    file = await bot.get_file(msg.document.file_id)
    assert bytes(await file.download_as_bytearray()) == upload.content


async def test_send_photo_and_media_group(fake: FakeBotApi, bot: Bot) -> None:
    photo = await bot.send_photo(USER, b"\x89PNG fake", filename="a.png")
    assert photo.photo[-1].file_size == len(b"\x89PNG fake")
    album = await bot.send_media_group(
        USER, [InputMediaPhoto(b"one", filename="1.png", caption="第一张"), InputMediaPhoto(b"two")]
    )
    assert [m.caption for m in album] == ["第一张", None]
    assert len({m.media_group_id for m in album}) == 1
    assert sorted(up.content for up in fake.sent("sendMediaGroup")[0].files.values()) == [b"one", b"two"]


async def test_replies_copies_forwards_edits_and_deletes(fake: FakeBotApi, bot: Bot) -> None:
    question = fake.push_text(USER, "我要投诉")["message"]
    reply = await bot.send_message(USER, "收到", reply_to_message_id=question["message_id"])
    assert reply.reply_to_message.text == "我要投诉"
    with pytest.raises(BadRequest, match=r"(?i)replied not found"):
        await bot.send_message(USER, "x", reply_to_message_id=999)

    topic = await bot.create_forum_topic(GROUP, "工单")
    copied = await bot.copy_message(GROUP, USER, question["message_id"], message_thread_id=topic.message_thread_id)
    assert fake.messages[(GROUP, copied.message_id)]["text"] == "我要投诉"
    forwarded = await bot.forward_message(GROUP, USER, question["message_id"])
    assert forwarded.forward_origin.sender_user.id == USER

    markup = InlineKeyboardMarkup([[InlineKeyboardButton("关闭", callback_data="close")]])
    edited = await bot.edit_message_text("已处理", USER, reply.message_id, reply_markup=markup)
    assert edited.text == "已处理" and edited.reply_markup == markup
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(USER, reply.message_id, reply_markup=markup)
    assert (await bot.edit_message_reply_markup(USER, reply.message_id)).reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("x", USER, question["message_id"])
    assert await bot.delete_message(USER, reply.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, reply.message_id)
    # Several at once, the gone ones skipped; a deleted topic takes its messages with it.
    other = await bot.send_message(GROUP, "其他话题")
    assert await bot.delete_messages(GROUP, [forwarded.message_id, reply.message_id])
    assert (GROUP, forwarded.message_id) not in fake.messages
    assert await bot.delete_forum_topic(GROUP, topic.message_thread_id)
    assert (GROUP, copied.message_id) not in fake.messages and (GROUP, other.message_id) in fake.messages


async def test_chat_and_member_lookups_parse(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_text(USER, "hi", username="zhangsan")
    chat = await bot.get_chat(USER)
    assert (chat.type, chat.first_name, chat.username) == ("private", "张三", "zhangsan")
    assert (await bot.get_chat_member(GROUP, fake.bot_id)).status == "administrator"
    fake.set_member_status(GROUP, USER, "left")
    assert (await bot.get_chat_member(GROUP, USER)).status == "left"
    assert await bot.send_chat_action(USER, "typing")
    assert await bot.set_my_commands([("start", "开始")])


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake: FakeBotApi, bot: Bot) -> None:
    asyncio.get_running_loop().call_later(0.2, fake.push_text, USER, "/start")
    started = asyncio.get_running_loop().time()
    [update] = await bot.get_updates(offset=0, timeout=5)
    assert asyncio.get_running_loop().time() - started < 2
    assert update.message.text == "/start" and update.message.entities[0].type == "bot_command"
    assert update.message.from_user.language_code == "zh-hans"
    assert await bot.get_updates(timeout=0) != []  # not confirmed yet: delivered again
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    await fake.wait_until_drained(timeout=0.1)

    fake.push_duplicate(update.to_dict())  # Telegram re-delivers an update it already delivered
    [again] = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert again.update_id == update.update_id


async def test_allowed_updates_filters_and_media_parse(fake: FakeBotApi, bot: Bot) -> None:
    for kind in ("photo", "sticker", "voice", "document", "video", "location", "contact"):
        fake.push_media(USER, kind, caption="看图" if kind == "photo" else None)
    updates = await bot.get_updates(timeout=0)
    assert updates[0].message.photo[-1].file_id and updates[0].message.caption == "看图"
    assert updates[-1].message.contact.user_id == USER
    fake.push_callback(USER, "rate:5")
    assert await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=["message"]) == ()
    assert fake.pending_updates == []


async def test_pushed_updates_parse_in_ptb(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(
        USER, "请评价", reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("5", callback_data="rate:5"))
    )
    original = fake.push_text(USER, "原文", chat_id=GROUP, message_thread_id=7)["message"]
    fake.push_edited_text(USER, fake.push_text(USER, "typo")["message"]["message_id"], "fixed")
    fake.push_callback(USER, "rate:5")
    fake.push_my_chat_member(USER, "kicked")
    updates = await bot.get_updates(timeout=0)
    topic_msg, _, edited, press, blocked = (u.effective_message or u for u in updates)
    assert topic_msg.chat.type == "supergroup" and topic_msg.message_thread_id == 7
    assert topic_msg.is_topic_message and topic_msg.message_id == original["message_id"]
    assert edited.text == "fixed" and edited.edit_date is not None
    assert press.message_id == sent.message_id and updates[3].callback_query.data == "rate:5"
    assert await updates[3].callback_query.answer()
    assert blocked.my_chat_member.new_chat_member.status == "kicked" and USER in fake.blocked


async def test_json_body_is_accepted(fake: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}/sendMessage"
        async with session.post(url, json={"chat_id": USER, "text": "json"}) as response:
            body = await response.json()
        async with session.post(url, json={"chat_id": USER}) as response:
            assert response.status == 400
    assert body["ok"] and body["result"]["text"] == "json"
    assert fake.sent()[0].params == {"chat_id": USER, "text": "json"}


async def test_latency_makes_requests_time_out(fake: FakeBotApi) -> None:
    fake.set_latency(0.5)
    request = HTTPXRequest(read_timeout=0.1)
    with pytest.raises(TimedOut):
        await Bot(fake.token, base_url=fake.base_url, request=request).get_me()


async def test_real_application_echo_bot_over_polling(fake: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}", do_quote=True)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("好的")
        await update.callback_query.edit_message_text(f"chose {update.callback_query.data}")

    app = Application.builder().token(fake.token).base_url(fake.base_url).base_file_url(fake.base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        update = fake.push_text(USER, "在吗")
        [reply] = await fake.wait_for("sendMessage", chat_id=USER)
        assert reply.params["text"] == "echo: 在吗"
        assert reply.params["reply_parameters"]["message_id"] == update["message"]["message_id"]

        fake.push_callback(USER, "rate:5")  # presses a button on the bot's last message (the echo)
        await fake.wait_for("answerCallbackQuery")
        [edit] = await fake.wait_for("editMessageText")
        assert edit.params["text"] == "chose rate:5"
        await fake.wait_until_drained()
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    polls = fake.sent("getUpdates")
    assert [c.method for c in fake.calls[:2]] == ["getMe", "deleteWebhook"]
    assert polls[0].params["offset"] == 0 and polls[0].params["timeout"] == 1
    assert polls[-1].params["timeout"] == 0  # the final confirming call made on stop
    assert polls[-1].params["offset"] == fake.last_offset > update["update_id"]
    assert fake.pending_updates == []


def test_thread_runner_serves_a_bot_from_another_loop() -> None:
    with FakeBotApiThread(bot_username="threaded_bot") as server:
        server.push_text(USER, "hello")

        async def talk() -> tuple[str | None, str | None]:
            async with Bot(server.token, base_url=server.base_url) as bot:
                [update] = await bot.get_updates(timeout=1)
                await bot.send_message(USER, "from main thread")
                return (await bot.get_me()).username, update.message.text

        assert asyncio.run(talk()) == ("threaded_bot", "hello")
        [call] = server.wait_for("sendMessage", chat_id=USER, timeout=2)
        assert call.params["text"] == "from main thread"
        assert [c.method for c in server.calls][-1] == "getMe"
