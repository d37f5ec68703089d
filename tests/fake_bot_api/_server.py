"""The HTTP server, update pushing, inspection and fault injection."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import random
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._methods import BotApiMethods
from ._types import (
    BLOCKABLE,
    ApiCall,
    ApiError,
    Fault,
    JSONDict,
    Pending,
    UploadedFile,
    bad,
    decode_param,
    utf16_len,
)

# What a busy day's Bot API answers now and then: flood control, and gateway errors.
RANDOM_ERRORS = (
    (429, "Too Many Requests: retry after 1", 1),
    (500, "Internal Server Error", None),
    (502, "Bad Gateway", None),
)
SENDING = {"sendmessage", "copymessage", "forwardmessage", "createforumtopic", "senddocument", "sendphoto"}


class FakeBotApi(BotApiMethods):
    """A fake Telegram Bot API server; see the package docstring. Use it from its own loop."""

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        # Long polls are released by `stop`, so a short shutdown timeout is plenty.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.base_file_url = f"http://127.0.0.1:{port}/file/bot"

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ pushing updates
    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue a raw update (a fresh ``update_id`` is assigned) and return it."""
        update = {**copy.deepcopy(update), "update_id": self._next_seq()}
        for key in ("message", "edited_message"):
            if msg := update.get(key):
                self.messages[(msg["chat"]["id"], msg["message_id"])] = msg
        self._pending.append(Pending(update))
        self._wake()
        return update

    def push_duplicate(self, update: JSONDict) -> None:
        """Re-deliver ``update`` with its old ``update_id`` even if already confirmed."""
        self._pending.append(Pending(copy.deepcopy(update), redelivery=True))
        self._wake()

    def push_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "张三",
        username: str | None = None,
        language_code: str | None = "zh-hans",
        chat_id: int | None = None,
        chat_type: str = "private",
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        is_topic_message: bool | None = None,
        last_name: str | None = None,
        via_bot: bool = False,
    ) -> JSONDict:
        """A text message from a user; ``/commands`` get a ``bot_command`` entity.

        ``via_bot``: the text of an inline result the user picked, sent "via @bot" and without entities.
        """
        self._user(user_id, first_name, username, language_code, last_name)
        msg = self._user_message(user_id, chat_id, chat_type, text=text)
        if via_bot:
            msg["via_bot"] = self.bot_user
        elif text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
        if message_thread_id is not None:
            msg["message_thread_id"] = message_thread_id
            msg["is_topic_message"] = True if is_topic_message is None else is_topic_message
        if reply_to_message_id is not None:
            msg["reply_to_message"] = self._reply_copy(msg["chat"]["id"], reply_to_message_id)
        return self.push_update({"message": msg})

    def push_callback(
        self, user_id: int, data: str, *, message_id: int | None = None, chat_id: int | None = None
    ) -> JSONDict:
        """A button press on a bot message (default: the bot's latest message in that chat)."""
        chat_id = user_id if chat_id is None else chat_id
        user = self._user(user_id)
        if message_id is None:
            own = [m for (c, _), m in self.messages.items() if c == chat_id and m["from"]["id"] == self.bot_id]
            message = own[-1] if own else None
        else:
            message = self.messages.get((chat_id, message_id))
        if message is None:  # nothing sent yet: invent the bot message that carried the button
            message = {
                "message_id": message_id or self._next_msg_id(chat_id),
                "date": int(time.time()),
                "chat": self._chat(chat_id),
                "from": self.bot_user,
                "text": "…",
            }
        query_id = str(self._next_seq() * 1000003)
        self._callback_ids.add(query_id)
        return self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                    "message": message,
                }
            }
        )

    def push_inline_query(
        self, user_id: int, query: str, *, first_name: str = "张三", username: str | None = None
    ) -> JSONDict:
        """Someone typed ``@bot query`` in a chat's input field."""
        user = self._user(user_id, first_name, username)
        query_id = str(self._next_seq() * 1000033)
        self._inline_ids.add(query_id)
        return self.push_update(
            {"inline_query": {"id": query_id, "from": user, "query": query, "offset": "", "chat_type": "supergroup"}}
        )

    def push_media(
        self, user_id: int, kind: str, *, caption: str | None = None, chat_id: int | None = None
    ) -> JSONDict:
        """A non-text message: photo, sticker, voice, document, video, location or contact."""
        self._user(user_id)
        shapes: dict[str, JSONDict] = {
            "photo": {"width": 800, "height": 600},
            "sticker": {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
            "voice": {"duration": 3, "mime_type": "audio/ogg"},
            "document": {"file_name": "document.pdf", "mime_type": "application/pdf"},
            "video": {"width": 640, "height": 360, "duration": 5},
            "location": {"latitude": 31.2304, "longitude": 121.4737},
            "contact": {"phone_number": "+8613800000000", "first_name": "张三", "user_id": user_id},
        }
        if kind not in shapes:
            raise ValueError(f"unknown media kind {kind!r}; expected one of {sorted(shapes)}")
        value: Any = shapes[kind]
        if kind not in ("location", "contact"):  # file-backed media get a downloadable file_id
            value = {**self._register(UploadedFile(f"{kind}.bin", b"fake " + kind.encode())), **value}
        if kind == "photo":
            value = [value]  # a list of PhotoSize
        msg = self._user_message(user_id, chat_id, "private", **{kind: value})
        if caption is not None:
            msg["caption"] = caption
        return self.push_update({"message": msg})

    def push_edited_text(self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None) -> JSONDict:
        """The user edited one of their messages (in the private chat unless ``chat_id`` says otherwise)."""
        self._user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        original = self.messages.get((chat_id, message_id))
        msg = copy.deepcopy(original) if original else self._user_message(user_id, chat_id, "private")
        msg.update(message_id=message_id, text=text, edit_date=int(time.time()))
        msg.pop("entities", None)
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
        return self.push_update({"edited_message": msg})

    def push_channel_post(self, chat_id: int, text: str, *, edited: bool = False) -> JSONDict:
        """A post in a channel (no sender user: ``sender_chat`` is the channel itself)."""
        chat = self._chat(chat_id, "channel")
        msg: JSONDict = {
            "message_id": self._next_msg_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "sender_chat": chat,
            "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
        if edited:
            msg["edit_date"] = int(time.time())
        return self.push_update({"edited_channel_post" if edited else "channel_post": msg})

    def push_my_chat_member(self, user_id: int, status: str) -> JSONDict:
        """The user blocked ("kicked") or unblocked ("member") the bot; ``blocked`` follows."""
        (self.blocked.add if status == "kicked" else self.blocked.discard)(user_id)
        old = "member" if status == "kicked" else "kicked"

        def member(status: str) -> JSONDict:
            return {"status": status, "user": self.bot_user} | ({"until_date": 0} if status == "kicked" else {})

        return self.push_update(
            {
                "my_chat_member": {
                    "chat": self._chat(user_id),
                    "from": self._user(user_id),
                    "date": int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(status),
                }
            }
        )

    # ------------------------------------------------------------------ inspecting
    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates pushed but not yet confirmed by a later getUpdates offset."""
        return [p.update for p in self._pending]

    def sent(
        self, method: str = "sendMessage", *, chat_id: int | None = None, include_failed: bool = False
    ) -> list[ApiCall]:
        """Calls of ``method`` (case-insensitive), by default only those answered with 200."""
        return [
            c
            for c in self.calls
            if c.method.lower() == method.lower()
            and (include_failed or c.ok)
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def wait_for(
        self, method: str, count: int = 1, *, chat_id: int | None = None, timeout: float = 5.0
    ) -> list[ApiCall]:
        """Wait until ``count`` successful calls of ``method`` were made; return them all."""
        try:
            await self._wait(lambda: len(self.sent(method, chat_id=chat_id)) >= count, timeout)
        except TimeoutError:
            seen = ", ".join(f"{c.method}({c.params.get('chat_id', '')})[{c.status}]" for c in self.calls)
            raise TimeoutError(
                f"expected {count} x {method}"
                + (f" to chat {chat_id}" if chat_id is not None else "")
                + f" within {timeout}s, got {len(self.sent(method, chat_id=chat_id))}."
                + f" Calls: {seen or 'none'}"
            ) from None
        return self.sent(method, chat_id=chat_id)

    async def wait_until_drained(self, timeout: float = 5.0) -> None:
        """Wait until every pushed update was confirmed (fetched, then acknowledged by offset)."""
        try:
            await self._wait(lambda: not self._pending, timeout)
        except TimeoutError:
            ids = [p.update["update_id"] for p in self._pending]
            raise TimeoutError(f"updates {ids} not confirmed within {timeout}s") from None

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    # ------------------------------------------------------------------ scripting the server
    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Someone deleted a forum topic by hand."""
        self.topics.get(chat_id, {}).pop(thread_id, None)
        self.closed_topics.discard((chat_id, thread_id))

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``, if given) with an error."""
        self._faults.append(Fault(method.lower(), ApiError(error_code, description, retry_after), times, chat_id))

    def fail_randomly(
        self, rate: float, *, seed: int = 0, errors: tuple[tuple[int, str, int | None], ...] = RANDOM_ERRORS
    ) -> None:
        """Answer a share ``rate`` of sending calls with one of ``errors`` (code, description, retry_after)."""
        self._random_faults = (rate, random.Random(seed), errors)

    def limit_groups(self, per_minute: int) -> None:
        """Behave like Telegram in groups: more than ``per_minute`` posts into one group within 60 s get a 429."""
        self._group_limit = per_minute

    def block_user(self, user_id: int) -> None:
        self.blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    def set_latency(self, seconds: float) -> None:
        """Delay every response by ``seconds``."""
        self._latency = seconds

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """getChatMember answer: creator, administrator, member, left or kicked."""
        self.member_status[(chat_id, user_id)] = status

    # ------------------------------------------------------------------ HTTP plumbing
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        call = ApiCall(method, params, files)
        self.calls.append(call)
        try:
            if self._latency:
                await asyncio.sleep(self._latency)
            self._maybe_fail(method.lower(), params)
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise bad("method not found")
            result = handler(params, files)
            if asyncio.iscoroutine(result):
                result = await result
            body: JSONDict = {"ok": True, "result": result}
        except ApiError as exc:
            call.status = exc.error_code
            body = {"ok": False, "error_code": exc.error_code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
        except (KeyError, TypeError, ValueError) as exc:  # missing/malformed parameters: Telegram says 400
            call.status = 400
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: invalid parameters ({exc!r})"}
        self._notify()
        return web.json_response(body, status=call.status, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.Response:
        up = self.files.get(request.match_info["file_path"])
        if request.match_info["token"] != self.token or up is None:
            raise web.HTTPNotFound()
        return web.Response(body=up.content, content_type=up.content_type)

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        params: JSONDict = {k: decode_param(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            params.update(await request.json() if request.can_read_body else {})
            return params, files
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
            else:
                params[key] = decode_param(key, value)
        return params, files

    def _maybe_fail(self, method: str, params: JSONDict) -> None:
        chat_id = params.get("chat_id")
        if self._random_faults is not None and method in SENDING:
            rate, dice, errors = self._random_faults
            if dice.random() < rate:
                code, description, retry_after = dice.choice(errors)
                raise ApiError(code, description, retry_after)
        if self._group_limit and method in SENDING and isinstance(chat_id, int) and chat_id < 0:
            now = time.monotonic()
            posts = self._group_posts.setdefault(chat_id, [])
            posts[:] = [at for at in posts if now - at < 60]
            if len(posts) >= self._group_limit:
                raise ApiError(429, "Too Many Requests: retry after 3", 3)
            posts.append(now)
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, params.get("chat_id")):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                raise fault.error
        if method in BLOCKABLE and params.get("chat_id") in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")


def _dumps(body: Any) -> str:
    """JSON as Telegram sends it: UTF-8, but lone surrogates (which UTF-8 cannot carry) as \\u escapes."""
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body)
    return text
