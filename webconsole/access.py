"""Who may see what: the console's settings, the signed-in user, roles from config, CSRF, the guard on each route.

The session cookie (Starlette's SessionMiddleware: signed, HttpOnly, SameSite=Lax) holds only the user's id
and name, a CSRF token and the page language; the role is looked up in the configured lists on every
request, so taking someone out of `[roles]` takes their access away at once.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from desk.messages import Who, staff_member
from knowledge import Thresholds

log = logging.getLogger(__name__)
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class Role(IntEnum):
    NONE = 0
    STAFF = 1
    MANAGER = 2


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console needs from the app's settings (the channel does not read the settings itself)."""

    token: str
    staff: frozenset[int]
    managers: frozenset[int]
    session_secret: str
    zone: ZoneInfo
    kb_paths: tuple[Path, ...]
    thresholds: Thresholds
    # The cookie is sent over https only when the console is reached over https.
    https_only: bool = False
    # The bot's @username without the @, for Telegram's Login Widget (empty: no widget on the login page).
    bot_username: str = ""
    # Console mode: the person at the terminal signs in through a one-time link printed there.
    local_login: bool = False
    # Login attempts per client and minute.
    login_attempts_per_minute: int = 10

    def role_of(self, user_id: int | None) -> Role:
        if user_id is None:
            return Role.NONE
        if user_id in self.managers:
            return Role.MANAGER
        return Role.STAFF if user_id in self.staff else Role.NONE


@dataclass
class LocalLogin:
    """The one-time key of the link printed in the terminal: it signs one browser in, once."""

    key: str | None = field(default_factory=lambda: secrets.token_urlsafe(24))

    def redeem(self, given: str) -> bool:
        if self.key is None or not hmac.compare_digest(self.key, given):
            return False
        self.key = None
        return True


@dataclass(frozen=True)
class User:
    user_id: int | None
    name: str
    role: Role
    local: bool = False

    @property
    def who(self) -> Who:
        """The staff member as the audit trail and the contacts name them."""
        return staff_member(self.user_id, self.name)

    @property
    def is_manager(self) -> bool:
        return self.role >= Role.MANAGER


def sign_in(request: Request, *, user_id: int | None, name: str, local: bool = False) -> None:
    """A fresh session for the person just verified (a new CSRF token with it)."""
    language = request.session.get("lang")
    request.session.clear()
    request.session.update(uid=user_id, name=name[:128], local=local, csrf=secrets.token_urlsafe(24))
    if language:
        request.session["lang"] = language


def current_user(request: Request, config: ConsoleConfig) -> User | None:
    session = request.session
    if "csrf" not in session:
        return None
    if session.get("local"):
        return User(None, str(session.get("name") or "local"), Role.MANAGER, local=True) if config.local_login else None
    user_id = session.get("uid")
    role = config.role_of(user_id if isinstance(user_id, int) else None)
    return User(user_id, str(session.get("name") or user_id), role) if role else None


def csrf_token(request: Request) -> str:
    return str(request.session.get("csrf", ""))


async def _csrf_ok(request: Request) -> bool:
    expected = csrf_token(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return bool(expected and given and hmac.compare_digest(expected, given))


Endpoint = Callable[[Request, User], Awaitable[Response]]
Route = Callable[[Request], Awaitable[Response]]


def guarded(config: ConsoleConfig, role: Role = Role.STAFF) -> Callable[[Endpoint], Route]:
    """Every page and API route: a signed-in user with `role` or more; a POST also needs the CSRF token."""

    def wrap(endpoint: Endpoint) -> Route:
        @functools.wraps(endpoint)
        async def guard(request: Request) -> Response:
            user = current_user(request, config)
            wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
            if user is None:
                if wants_page:
                    return RedirectResponse(request.url_for("login"), status_code=303)
                return _refusal(401, "not signed in")
            if user.role < role:
                log.warning("console: user %s refused %s (role %s)", user.user_id, request.url.path, user.role.name)
                return _refusal(403, "not allowed")
            if request.method == "POST" and not await _csrf_ok(request):
                log.warning("console: POST without a valid CSRF token from user %s", user.user_id)
                return _refusal(403, "missing or wrong CSRF token")
            return await endpoint(request, user)

        return guard

    return wrap


def _refusal(status: int, reason: str) -> Response:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def form_text(form: Any, name: str, limit: int = 4096) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
