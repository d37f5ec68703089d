"""State of the fake and the helpers that build Telegram objects from it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from ._types import MAX_CAPTION, ApiCall, Fault, JSONDict, Pending, UploadedFile, bad, visible_text


class ApiState:
    """The fake's world: chats, messages, topics, pending updates, recorded calls.

    Must only be touched from the event loop the server runs on.
    """

    def __init__(
        self, token: str = "123456:TEST-TOKEN", bot_username: str = "kefu_test_bot", bot_id: int = 123456
    ) -> None:
        self.token = token
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Kefu Test Bot",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.base_url = self.base_file_url = ""
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], JSONDict] = {}  # (chat_id, message_id) -> Message
        self.files: dict[str, UploadedFile] = {}  # file_id -> file
        self.topics: dict[int, dict[int, str]] = {}  # chat_id -> {message_thread_id: name}
        self.closed_topics: set[tuple[int, int]] = set()
        self.blocked: set[int] = set()
        self.member_status: dict[tuple[int, int], str] = {}  # (chat_id, user_id) -> status override
        self.last_offset = 0  # highest getUpdates offset seen (= confirmed up to offset - 1)
        self._pending: list[Pending] = []
        self._allowed: set[str] | None = None
        self._chats: dict[int, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._msg_seq: dict[int, int] = {}
        self._callback_ids: set[str] = set()
        self._inline_ids: set[str] = set()
        self._faults: list[Fault] = []
        self._random_faults: tuple[float, Any, tuple[tuple[int, str, int | None], ...]] | None = None
        self._group_limit = 0
        self._group_posts: dict[int, list[float]] = {}
        self._latency = 0.0
        self._seq = 0  # update ids, callback ids, file ids
        self._new_update = asyncio.Event()  # replaced on every push: wakes long polls
        self._changed = asyncio.Event()  # replaced on every call/confirmation: wakes wait_for
        self._closing = False
        self._runner: web.AppRunner | None = None

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    def _wake(self) -> None:
        self._new_update.set()
        self._new_update = asyncio.Event()
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _next_msg_id(self, chat_id: int) -> int:
        self._msg_seq[chat_id] = self._msg_seq.get(chat_id, 0) + 1
        return self._msg_seq[chat_id]

    def _user(
        self,
        user_id: int,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        last_name: str | None = None,
    ) -> JSONDict:
        """The user object for ``user_id`` (created on first sight; given fields overwrite)."""
        user = self._users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": "张三"})
        fields = {"first_name": first_name, "username": username, "language_code": language_code}
        fields["last_name"] = last_name
        user.update({k: v for k, v in fields.items() if v is not None})
        return user

    def _chat(self, chat_id: int, chat_type: str | None = None) -> JSONDict:
        if chat_id not in self._chats:
            chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
            chat: JSONDict = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                user = self._users.get(chat_id, {"first_name": f"User {chat_id}"})
                chat.update({k: user[k] for k in ("first_name", "username") if k in user})
            else:
                chat.update(title=f"Test {chat_type} {chat_id}", is_forum=chat_type == "supergroup")
            self._chats[chat_id] = chat
        return self._chats[chat_id]

    def _user_message(self, user_id: int, chat_id: int | None, chat_type: str, **content: Any) -> JSONDict:
        chat_id = user_id if chat_id is None else chat_id
        if chat_id < 0 and chat_type == "private":
            chat_type = "supergroup"  # a negative id is never a private chat
        return {
            "message_id": self._next_msg_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "from": self._users[user_id],
            **content,
        }

    def _reply_copy(self, chat_id: int, message_id: int) -> JSONDict:
        found = self.messages.get((chat_id, message_id))
        if found is None:
            return {"message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id)}
        return {k: v for k, v in found.items() if k != "reply_to_message"}  # Telegram nests one level only

    def _register(self, up: UploadedFile) -> JSONDict:
        up.file_id = f"FILE{self._next_seq()}"
        self.files[up.file_id] = up
        return {"file_id": up.file_id, "file_unique_id": f"U{up.file_id}", "file_size": len(up.content)}

    def _input_file(self, value: Any, files: dict[str, UploadedFile], field_name: str) -> JSONDict:
        """Resolve an upload, an ``attach://name`` reference or an existing file_id/URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            field_name, value = value.removeprefix("attach://"), None
        if value is None and field_name in files:
            return self._register(files[field_name])
        if isinstance(value, str) and value in self.files:
            return self._register_meta(value)
        if isinstance(value, str) and value:
            return {"file_id": value, "file_unique_id": f"U{value[:32]}"}
        raise bad(f"there is no {field_name} in the request")

    def _register_meta(self, file_id: str) -> JSONDict:
        return {
            "file_id": file_id,
            "file_unique_id": f"U{file_id}",
            "file_size": len(self.files[file_id].content),
        }

    def _chat_id(self, params: JSONDict, key: str = "chat_id") -> int:
        value = params.get(key)
        if not isinstance(value, int):
            raise bad("chat not found")
        return value

    def _message(self, params: JSONDict, what: str) -> JSONDict:
        msg = self.messages.get((self._chat_id(params), params.get("message_id")))  # type: ignore[arg-type]
        if msg is None:
            raise bad(f"message to {what} not found")
        return msg

    def _bot_message(self, params: JSONDict, **content: Any) -> JSONDict:
        """Create, store and return a message the bot sends (thread, reply and markup honoured)."""
        chat_id = self._chat_id(params)
        msg: JSONDict = {
            "message_id": 0,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self.bot_user,
            **content,
        }
        if (thread := params.get("message_thread_id")) is not None:
            if thread not in self.topics.get(chat_id, {}):
                raise bad("message thread not found")
            if (chat_id, thread) in self.closed_topics:
                raise bad("TOPIC_CLOSED")
            msg.update(message_thread_id=thread, is_topic_message=True)
        reply = params.get("reply_parameters") or {}
        if params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"]}
        if reply:
            target = self.messages.get((reply.get("chat_id", chat_id), reply["message_id"]))
            if target is not None:
                msg["reply_to_message"] = self._reply_copy(target["chat"]["id"], target["message_id"])
            elif not (reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply")):
                raise bad("message to be replied not found")
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # Telegram echoes inline keyboards only
            msg["reply_markup"] = markup
        msg["message_id"] = self._next_msg_id(chat_id)
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    def _caption(self, params: JSONDict) -> JSONDict:
        if params.get("caption") is None:
            return {}
        visible = visible_text(str(params["caption"]), params.get("parse_mode"))
        if len(visible) > MAX_CAPTION:
            raise bad("message caption is too long")
        return {"caption": params["caption"]}

    def _topic(self, params: JSONDict) -> tuple[int, int]:
        chat_id, thread = self._chat_id(params), params.get("message_thread_id")
        if thread not in self.topics.get(chat_id, {}):
            raise bad("TOPIC_ID_INVALID")
        return chat_id, thread  # type: ignore[return-value]
