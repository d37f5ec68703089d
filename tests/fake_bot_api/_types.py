"""Plain data types and wire helpers shared by the fake Bot API modules."""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

# Form values that are strings on the wire even when they look like JSON ("123", "true").
STRING_PARAMS = frozenset(
    [
        "text",
        "caption",
        "callback_query_id",
        "name",
        "parse_mode",
        "url",
        "file_id",
        "action",
        "inline_message_id",
        "icon_custom_emoji_id",
        "title",
        "description",
        "secret_token",
    ]
)
# Methods that fail with 403 when the target private chat blocked the bot.
BLOCKABLE = frozenset(
    [
        "sendmessage",
        "copymessage",
        "forwardmessage",
        "senddocument",
        "sendphoto",
        "sendmediagroup",
        "sendchataction",
        "editmessagetext",
        "editmessagereplymarkup",
    ]
)
# Telegram's default when allowed_updates was never set: everything but these.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Message keys that describe the envelope, not the content (not copied by copy/forward).
ENVELOPE_KEYS = frozenset(
    [
        "message_id",
        "date",
        "chat",
        "from",
        "reply_to_message",
        "message_thread_id",
        "is_topic_message",
        "reply_markup",
        "edit_date",
        "forward_origin",
        "media_group_id",
    ]
)


@dataclass
class UploadedFile:
    """A file the bot uploaded (multipart) or one the fake invented for a pushed media message."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    file_id: str = ""


@dataclass
class ApiCall:
    """One HTTP request the bot made. ``at`` is ``time.monotonic()``; ``status`` the HTTP answer."""

    method: str
    params: JSONDict
    files: dict[str, UploadedFile] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    status: int = 200

    @property
    def ok(self) -> bool:
        return self.status == 200


class ApiError(Exception):
    """Raised inside a handler; turned into ``{"ok": false, ...}`` with the given HTTP status."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code, self.description, self.retry_after = error_code, description, retry_after


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Fault:
    method: str
    error: ApiError
    times: int
    chat_id: int | None


@dataclass
class Pending:
    update: JSONDict
    redelivery: bool = False  # pushed by push_duplicate: delivered regardless of the offset
    delivered: bool = False


def decode_param(key: str, value: str) -> Any:
    if key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2  # entity offsets/lengths are UTF-16 code units


# Telegram's HTML parse mode: these tags only, properly nested; anything else is "can't parse entities".
HTML_TAGS = frozenset(
    [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    ]
)
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s+[^<>]*)?>")
MAX_TEXT = 4096
MAX_CAPTION = 1024


def visible_text(text: str, parse_mode: Any) -> str:
    """What the user would see: the text with HTML tags and entities resolved; raises 400 like Telegram."""
    if parse_mode is None or str(parse_mode).lower() != "html":
        return text
    plain, open_tags, pos = [], [], 0
    while (start := text.find("<", pos)) >= 0:
        plain.append(text[pos:start])
        tag = _HTML_TAG.match(text, start)
        offset = len(text[:start].encode("utf-8", "surrogatepass"))
        if tag is None or tag.group(2).lower() not in HTML_TAGS:
            name = tag.group(2) if tag else text[start + 1 : start + 12]
            raise bad(f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}')
        name = tag.group(2).lower()
        if tag.group(1):
            if not open_tags or open_tags[-1] != name:
                raise bad(f'can\'t parse entities: Unmatched end tag at byte offset {offset}, expected "{name}"')
            open_tags.pop()
        else:
            open_tags.append(name)
        pos = tag.end()
    if open_tags:
        raise bad(f"can't parse entities: Can't find end tag corresponding to start tag \"{open_tags[-1]}\"")
    plain.append(text[pos:])
    return html.unescape("".join(plain))
