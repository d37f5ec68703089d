"""The Bot API methods the fake implements, one ``_api_<lowercased name>`` each."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from ._state import ApiState
from ._types import ENVELOPE_KEYS, MAX_TEXT, NOT_DEFAULT_UPDATES, JSONDict, UploadedFile, bad, visible_text


class BotApiMethods(ApiState):
    """Each ``_api_<lowercase method>(params, files)`` returns the ``result`` or raises ApiError.

    Method names are case-insensitive on Telegram's side too, hence the lowercase lookup.
    """

    def _api_getme(self, p: JSONDict, f: Any) -> JSONDict:
        return self.bot_user

    def _api_deletewebhook(self, p: JSONDict, f: Any) -> bool:
        if p.get("drop_pending_updates"):
            self._pending.clear()
            self._notify()
        return True

    def _api_setwebhook(self, p: JSONDict, f: Any) -> bool:
        return True

    def _api_getwebhookinfo(self, p: JSONDict, f: Any) -> JSONDict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._pending)}

    _api_logout = _api_close = _api_setmycommands = _api_leavechat = _api_sendchataction = _api_setwebhook

    async def _api_getupdates(self, p: JSONDict, f: Any) -> list[JSONDict]:
        offset, timeout = int(p.get("offset") or 0), float(p.get("timeout") or 0)
        limit = int(p.get("limit") or 100)
        if "allowed_updates" in p:  # like Telegram, the last list given sticks; [] means the default
            self._allowed = set(p["allowed_updates"]) or None
        if offset > 0:  # confirm everything below offset (plus redeliveries already handed out)
            self.last_offset = max(self.last_offset, offset)
            confirmed = lambda e: e.delivered if e.redelivery else e.update["update_id"] < offset  # noqa: E731
            self._pending = [e for e in self._pending if not confirmed(e)]
            self._notify()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            batch = [e for e in self._pending if e.redelivery or e.update["update_id"] >= offset]
            wanted = [e for e in batch if self._wanted(e.update)]
            if len(wanted) != len(batch):  # updates of unwanted types are dropped, as Telegram does
                unwanted = {id(e) for e in batch} - {id(e) for e in wanted}
                self._pending = [e for e in self._pending if id(e) not in unwanted]
            remaining = deadline - asyncio.get_running_loop().time()
            if wanted or self._closing or remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), remaining)
        # PTB confirms with updates[-1].update_id + 1, so hand them out in id order.
        wanted = sorted(wanted, key=lambda e: e.update["update_id"])[:limit]
        for e in wanted:
            e.delivered = True
        return [e.update for e in wanted]

    def _wanted(self, update: JSONDict) -> bool:
        kind = next(k for k in update if k != "update_id")
        return kind in self._allowed if self._allowed is not None else kind not in NOT_DEFAULT_UPDATES

    def _api_sendmessage(self, p: JSONDict, f: Any) -> JSONDict:
        if not p.get("text"):
            raise bad("message text is empty")
        self._check_text(str(p["text"]), p.get("parse_mode"))
        return self._bot_message(p, text=str(p["text"]))

    @staticmethod
    def _check_text(text: str, parse_mode: Any, limit: int = MAX_TEXT) -> None:
        """Telegram parses the markup first, then counts: too long or broken markup is a 400."""
        visible = visible_text(text, parse_mode)
        if not visible.strip():
            raise bad("message text is empty")
        if len(visible) > limit:
            raise bad("message is too long" if limit == MAX_TEXT else "message caption is too long")

    def _api_senddocument(self, p: JSONDict, f: dict[str, UploadedFile]) -> JSONDict:
        doc = self._input_file(p.get("document"), f, "document")
        up = self.files.get(doc["file_id"])
        if up is not None:
            doc.update(file_name=up.filename, mime_type=up.content_type)
        return self._bot_message(p, document=doc, **self._caption(p))

    def _api_sendphoto(self, p: JSONDict, f: dict[str, UploadedFile]) -> JSONDict:
        photo = {**self._input_file(p.get("photo"), f, "photo"), "width": 800, "height": 600}
        return self._bot_message(p, photo=[photo], **self._caption(p))

    def _api_sendmediagroup(self, p: JSONDict, f: dict[str, UploadedFile]) -> list[JSONDict]:
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad("media group must include 2-10 items")
        group_id, out = str(self._next_seq()), []
        for item in media:
            kind = item.get("type", "photo")
            meta = self._input_file(item.get("media"), f, kind)
            content = [{**meta, "width": 800, "height": 600}] if kind == "photo" else meta
            out.append(self._bot_message(p, **{kind: content}, **self._caption(item), media_group_id=group_id))
        return out

    def _copy_content(self, p: JSONDict, what: str) -> JSONDict:
        src = self.messages.get((self._chat_id(p, "from_chat_id"), p.get("message_id")))  # type: ignore[arg-type]
        if src is None:
            raise bad(f"message to {what} not found")
        return {k: v for k, v in src.items() if k not in ENVELOPE_KEYS}

    def _api_copymessage(self, p: JSONDict, f: Any) -> JSONDict:
        content = {**self._copy_content(p, "copy"), **self._caption(p)}
        return {"message_id": self._bot_message(p, **content)["message_id"]}

    def _api_forwardmessage(self, p: JSONDict, f: Any) -> JSONDict:
        content = self._copy_content(p, "forward")
        src = self.messages[(p["from_chat_id"], p["message_id"])]
        origin = {"type": "user", "date": src["date"], "sender_user": src["from"]}
        return self._bot_message({**p, "reply_markup": None}, **content, forward_origin=origin)

    def _editable(self, p: JSONDict) -> JSONDict:
        msg = self._message(p, "edit")
        if msg["from"]["id"] != self.bot_id:
            raise bad("message can't be edited")
        return msg

    def _set_markup(self, msg: JSONDict, markup: Any, changed: bool) -> JSONDict:
        new = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        if not changed and new == msg.get("reply_markup"):
            raise bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.pop("reply_markup", None)
        msg.update({"reply_markup": new} if new else {}, edit_date=int(time.time()))
        return msg

    def _api_editmessagetext(self, p: JSONDict, f: Any) -> JSONDict | bool:
        if p.get("inline_message_id"):
            return True
        msg = self._editable(p)
        if "text" not in msg:
            raise bad("there is no text in the message to edit")
        self._check_text(str(p.get("text", "")), p.get("parse_mode"))
        changed, msg["text"] = msg["text"] != str(p.get("text", "")), str(p.get("text", ""))
        return self._set_markup(msg, p.get("reply_markup"), changed)

    def _api_editmessagecaption(self, p: JSONDict, f: Any) -> JSONDict | bool:
        if p.get("inline_message_id"):
            return True
        msg = self._editable(p)
        if not any(kind in msg for kind in ("photo", "video", "document", "audio", "animation", "voice")):
            raise bad("there is no caption in the message to edit")
        caption = str(p.get("caption", ""))
        self._check_text(caption, p.get("parse_mode"))
        changed = msg.get("caption", "") != caption
        msg.pop("caption", None)
        msg.update({"caption": caption} if caption else {})
        return self._set_markup(msg, p.get("reply_markup"), changed)

    def _api_editmessagereplymarkup(self, p: JSONDict, f: Any) -> JSONDict | bool:
        if p.get("inline_message_id"):
            return True
        return self._set_markup(self._editable(p), p.get("reply_markup"), changed=False)

    def _api_deletemessage(self, p: JSONDict, f: Any) -> bool:
        msg = self._message(p, "delete")
        del self.messages[(msg["chat"]["id"], msg["message_id"])]
        return True

    def _api_deletemessages(self, p: JSONDict, f: Any) -> bool:
        chat_id, ids = self._chat_id(p), p.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad("message_ids must be a list of 1-100 ids")
        for message_id in ids:  # like Telegram, messages that are gone are skipped
            self.messages.pop((chat_id, message_id), None)
        return True

    def _api_setchatmenubutton(self, p: JSONDict, f: Any) -> bool:
        button = p.get("menu_button") or {"type": "default"}
        if button.get("type") == "web_app" and not str(button.get("web_app", {}).get("url", "")).startswith("https://"):
            raise bad("inline keyboard button web app url is invalid: only https links are allowed")
        if "chat_id" in p and self._chat_id(p) < 0:
            raise bad("chat_id must be a private chat")
        return True

    def _api_answercallbackquery(self, p: JSONDict, f: Any) -> bool:
        if str(p.get("callback_query_id")) not in self._callback_ids:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        return True

    def _api_answerinlinequery(self, p: JSONDict, f: Any) -> bool:
        if str(p.get("inline_query_id")) not in self._inline_ids:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        results = p.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise bad("RESULTS_TOO_MUCH" if isinstance(results, list) else "results must be a list")
        for result in results:
            if not isinstance(result, dict) or not result.get("id") or not result.get("type"):
                raise bad("RESULT_ID_INVALID")
        return True

    def _api_createforumtopic(self, p: JSONDict, f: Any) -> JSONDict:
        chat_id = self._chat_id(p)
        if not self._chat(chat_id).get("is_forum"):
            raise bad("the chat is not a forum")
        if not p.get("name"):
            raise bad("TOPIC_TITLE_EMPTY")
        thread = self._next_msg_id(chat_id)  # a topic's id is the id of its creation service message
        self.topics.setdefault(chat_id, {})[thread] = str(p["name"])
        topic = {
            "message_thread_id": thread,
            "name": str(p["name"]),
            "icon_color": p.get("icon_color", 7322096),
        }
        if p.get("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = p["icon_custom_emoji_id"]
        return topic

    def _api_editforumtopic(self, p: JSONDict, f: Any) -> bool:
        chat_id, thread = self._topic(p)
        if p.get("name") in (None, self.topics[chat_id][thread]) and "icon_custom_emoji_id" not in p:
            raise bad("TOPIC_NOT_MODIFIED")
        self.topics[chat_id][thread] = str(p.get("name") or self.topics[chat_id][thread])
        return True

    def _api_closeforumtopic(self, p: JSONDict, f: Any) -> bool:
        key = self._topic(p)
        if key in self.closed_topics:
            raise bad("TOPIC_NOT_MODIFIED")
        self.closed_topics.add(key)
        return True

    def _api_reopenforumtopic(self, p: JSONDict, f: Any) -> bool:
        key = self._topic(p)
        if key not in self.closed_topics:
            raise bad("TOPIC_NOT_MODIFIED")
        self.closed_topics.discard(key)
        return True

    def _api_deleteforumtopic(self, p: JSONDict, f: Any) -> bool:
        chat_id, thread = self._topic(p)
        self.delete_topic(chat_id, thread)
        # Like Telegram, every message in the topic goes with it.
        gone = [
            key for key, msg in self.messages.items() if key[0] == chat_id and msg.get("message_thread_id") == thread
        ]
        for key in gone:
            del self.messages[key]
        return True

    def _api_getchat(self, p: JSONDict, f: Any) -> JSONDict:
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            True,
        )
        return {
            **self._chat(self._chat_id(p)),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def _api_getchatmember(self, p: JSONDict, f: Any) -> JSONDict:
        chat_id, user_id = self._chat_id(p), p.get("user_id")
        if not isinstance(user_id, int):
            raise bad("invalid user_id specified")
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id) or self._user(user_id)
        default = "administrator" if user_id == self.bot_id and chat_id < 0 else "member"
        status = self.member_status.get((chat_id, user_id), default)
        extra: JSONDict = {"kicked": {"until_date": 0}, "creator": {"is_anonymous": False}}.get(status, {})
        if status == "administrator":
            flags = (
                "is_anonymous",
                "can_be_edited",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            )
            extra = dict.fromkeys(flags, False) | dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_promote_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_manage_topics",
                ),
                True,
            )
        return {"status": status, "user": user, **extra}

    def _api_getfile(self, p: JSONDict, f: Any) -> JSONDict:
        file_id = p.get("file_id")
        if file_id not in self.files:
            raise bad("invalid file_id")
        return {**self._register_meta(file_id), "file_path": file_id}  # type: ignore[arg-type]
