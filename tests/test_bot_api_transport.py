"""The Bot API transports side by side: aiohttp (the default) and httpx (PTB's own) behave alike.

Each case talks over real HTTP to the fake Bot API through python-telegram-bot's `Bot`, so what is
compared is what Telegram would receive and what the desk above would see: the same parameters, the
same uploaded file, the same exceptions for an API error, a timeout and a server that is not there; and
both through an HTTP proxy (`telegram.proxy`), the whole bot included.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from handlers.aiohttp_request import AiohttpRequest
from tests.bot_harness import running_bot
from tests.fake_bot_api import FakeBotApi

CHAT = 4242


def transport(name: str, **timeouts: float) -> BaseRequest:
    return AiohttpRequest(8, **timeouts) if name == "aiohttp" else HTTPXRequest(8, **timeouts)


@pytest.fixture(params=["aiohttp", "httpx"])
def name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def _bot(fake: FakeBotApi, request: BaseRequest) -> Bot:
    bot = Bot(fake.token, base_url=fake.base_url, request=request, get_updates_request=transport("httpx"))
    await bot.initialize()
    return bot


async def test_a_text_with_markup_arrives_as_sent(fake: FakeBotApi, name: str) -> None:
    bot = await _bot(fake, transport(name))
    try:
        message = await bot.send_message(CHAT, "退货 <b>三天</b> & more", parse_mode="HTML", disable_notification=True)
    finally:
        await bot.shutdown()
    (call,) = fake.sent("sendMessage", chat_id=CHAT)
    assert call.params["text"] == "退货 <b>三天</b> & more"
    assert call.params["parse_mode"] == "HTML"
    assert call.params["disable_notification"] is True
    assert message.chat.id == CHAT and message.message_id > 0


async def test_a_file_is_uploaded_whole_with_its_name(fake: FakeBotApi, name: str) -> None:
    content = "日期,客户\n2026-12-01,张三\n".encode() * 2000
    bot = await _bot(fake, transport(name))
    try:
        message = await bot.send_document(CHAT, content, filename="logs-本周.csv", caption="本周日志")
    finally:
        await bot.shutdown()
    (call,) = fake.sent("sendDocument", chat_id=CHAT)
    (uploaded,) = call.files.values()
    assert uploaded.content == content
    assert uploaded.filename == "logs-本周.csv"
    assert call.params["caption"] == "本周日志"
    assert message.document is not None and message.document.file_name == "logs-本周.csv"


async def test_api_errors_become_the_same_exceptions(fake: FakeBotApi, name: str) -> None:
    bot = await _bot(fake, transport(name))
    try:
        fake.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(CHAT, "hi")
        fake.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 7", retry_after=7)
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(CHAT, "hi")
        assert raised.value.retry_after in (7, 7.0) or raised.value.retry_after.total_seconds() == 7
    finally:
        await bot.shutdown()


async def test_a_slow_answer_is_a_timeout(fake: FakeBotApi, name: str) -> None:
    bot = await _bot(fake, transport(name, read_timeout=0.3, write_timeout=0.1))
    fake.set_latency(1.5)
    try:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "hi")
        # A longer timeout for this one call only, as the poller asks for its long poll.
        message = await bot.send_message(CHAT, "hi", read_timeout=5)
        assert message.message_id > 0
    finally:
        await bot.shutdown()


async def test_nobody_listening_is_a_network_error(name: str) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = transport(name, connect_timeout=2)
    bot = Bot("123:abc", base_url=f"http://127.0.0.1:{port}/bot", request=request)
    with pytest.raises(NetworkError) as raised:
        await bot.initialize()  # getMe
    assert not isinstance(raised.value, TimedOut)


def test_a_socks_proxy_is_refused_by_aiohttp_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="socks5"):
        AiohttpRequest(proxy="socks5://127.0.0.1:1080")


class ForwardProxy:
    """An HTTP proxy for plain-http targets, as a shop's outbound proxy: takes the request in absolute form,
    forwards it to the host it names, and counts what passed through it."""

    def __init__(self) -> None:
        self.forwarded: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> ForwardProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        target = str(request.url)  # the absolute URL the client asked the proxy for (its Host header)
        self.forwarded.append(request.path.rsplit("/", 1)[-1])
        headers = {key: value for key, value in request.headers.items() if key.lower() in ("content-type",)}
        async with (
            aiohttp.ClientSession() as session,
            session.request(request.method, target, data=await request.read(), headers=headers) as answer,
        ):
            return web.Response(status=answer.status, body=await answer.read(), content_type="application/json")


async def test_through_the_configured_proxy_both_transports_reach_the_bot_api(fake: FakeBotApi, name: str) -> None:
    """telegram.proxy: every call goes through it (a shop whose servers reach Telegram only through one)."""
    async with ForwardProxy() as proxy:
        request = AiohttpRequest(8, proxy=proxy.url) if name == "aiohttp" else HTTPXRequest(8, proxy=proxy.url)
        bot = Bot(fake.token, base_url=fake.base_url, request=request, get_updates_request=transport("httpx"))
        await bot.initialize()
        try:
            message = await bot.send_message(CHAT, "经代理发送")
        finally:
            await bot.shutdown()
    assert message.message_id > 0
    assert proxy.forwarded == ["getMe", "sendMessage"]
    (call,) = fake.sent("sendMessage", chat_id=CHAT)
    assert call.params["text"] == "经代理发送"


async def test_the_bot_polls_and_answers_through_telegram_proxy(database_url: str, each_http_client: str) -> None:
    """The whole bot with `telegram.proxy` set: its long poll and its answers both go through the proxy."""
    async with ForwardProxy() as proxy, running_bot(database_url, telegram={"proxy": proxy.url}) as bot:
        bot.fake.push_text(5100, "怎么退货")
        await bot.fake.wait_for("sendMessage", chat_id=5100)
        assert {"getUpdates", "sendMessage"} <= set(proxy.forwarded)
