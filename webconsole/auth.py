"""Who is signing in: Telegram's two signed payloads checked as Telegram documents them, and a login limiter.

- The Login Widget (a browser): `data-check-string` is every received field but `hash`, sorted, as
  `key=value` lines; the hash is HMAC-SHA256 of it keyed with SHA256(bot token), in hex.
- A Mini App's `initData` (inside Telegram): the same string, keyed with HMAC-SHA256("WebAppData", token).

Both carry `auth_date`; an old one is refused, so a payload copied from a log or a history is useless.
Nothing here knows roles: the caller decides what a verified user may see.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

# A signed payload older than this is refused (Telegram's own examples check a day).
MAX_AGE_SECONDS = 24 * 3600
# A payload dated this far ahead of our clock is refused too (clocks differ by seconds, not minutes).
CLOCK_SKEW_SECONDS = 300


class LoginRefused(Exception):
    """The payload does not prove who it claims; str() says why (for the log, not for the page)."""


@dataclass(frozen=True)
class TelegramUser:
    id: int
    name: str
    username: str | None = None


def data_check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def widget_hash(fields: Mapping[str, str], token: str) -> str:
    """The hash Telegram puts on a Login Widget payload for this bot."""
    secret = hashlib.sha256(token.encode()).digest()
    return hmac.new(secret, data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def init_data_hash(fields: Mapping[str, str], token: str) -> str:
    """The hash Telegram puts on a Mini App's initData for this bot."""
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def check_widget(fields: Mapping[str, str], token: str, *, now: float | None = None) -> TelegramUser:
    """A Login Widget payload (the query of its redirect): the user it proves, or LoginRefused."""
    _check_hash(fields, widget_hash(fields, token) if token else "")
    _check_age(fields, now)
    try:
        user_id = int(fields["id"])
    except (KeyError, ValueError):
        raise LoginRefused("no user id") from None
    name = " ".join(part for part in (fields.get("first_name", ""), fields.get("last_name", "")) if part)
    return TelegramUser(user_id, name or str(user_id), fields.get("username") or None)


def check_init_data(init_data: str, token: str, *, now: float | None = None) -> TelegramUser:
    """A Mini App's `Telegram.WebApp.initData` string: the user it proves, or LoginRefused."""
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    _check_hash(fields, init_data_hash(fields, token) if token else "")
    _check_age(fields, now)
    try:
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise LoginRefused("no user in initData") from None
    name = " ".join(part for part in (user.get("first_name", ""), user.get("last_name", "")) if part)
    return TelegramUser(user_id, name or str(user_id), user.get("username") or None)


def _check_hash(fields: Mapping[str, str], expected: str) -> None:
    given = fields.get("hash", "")
    if not expected or not given or not hmac.compare_digest(expected, given.lower()):
        raise LoginRefused("hash does not match")


def _check_age(fields: Mapping[str, str], now: float | None) -> None:
    try:
        signed_at = int(fields["auth_date"])
    except (KeyError, ValueError):
        raise LoginRefused("no auth_date") from None
    age = (time.time() if now is None else now) - signed_at
    if age > MAX_AGE_SECONDS:
        raise LoginRefused(f"auth_date is {age / 3600:.0f} hours old")
    if age < -CLOCK_SKEW_SECONDS:
        raise LoginRefused("auth_date is in the future")


class AttemptLimiter:
    """At most `limit` login attempts per client in any `window` seconds (in memory: it only slows guessing)."""

    def __init__(self, limit: int = 10, window: float = 60.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._attempts: dict[str, deque[float]] = {}

    def allow(self, client: str) -> bool:
        now = self._clock()
        recent = self._attempts.setdefault(client, deque())
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        if len(self._attempts) > 10_000:  # forget idle clients, so a scan cannot grow the table forever
            for key in [key for key, times in self._attempts.items() if not times or now - times[-1] > self.window]:
                del self._attempts[key]
        return True
