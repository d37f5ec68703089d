"""Signing in to the web console in tests: Telegram's payloads signed with the test token, as Telegram signs them.

The hashes are computed here from Telegram's documentation, independently of webconsole.auth, so a test
proves the console accepts what Telegram sends (not merely what the console itself would sign).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from crm_store import Store
from crm_store.types import utcnow
from desk.context import DeskContext
from desk.service import Desk
from knowledge import KnowledgeBase, Thresholds
from webconsole import ConsoleConfig

TOKEN = "123456:TEST-token-for-the-console"
STAFF, MANAGER, CUSTOMER = 900, 901, 5551


def widget_payload(user_id: int, *, token: str = TOKEN, auth_date: int | None = None, **extra: str) -> dict[str, str]:
    """What the Login Widget redirects with: the user's fields and their hash (key: SHA256 of the token)."""
    fields = {"id": str(user_id), "first_name": f"用户{user_id}", "auth_date": str(auth_date or int(time.time()))}
    fields.update(extra)
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    fields["hash"] = hmac.new(hashlib.sha256(token.encode()).digest(), check.encode(), hashlib.sha256).hexdigest()
    return fields


def init_data(user_id: int, *, token: str = TOKEN, auth_date: int | None = None) -> str:
    """A Mini App's initData (key: HMAC-SHA256 of the token keyed with "WebAppData")."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": "王", "last_name": "芳", "username": "wangfang"}),
        "auth_date": str(auth_date or int(time.time())),
    }
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def console_config(kb_paths: tuple[Path, ...] = (), **changes: object) -> ConsoleConfig:
    values: dict[str, object] = {
        "token": TOKEN,
        "staff": frozenset({STAFF}),
        "managers": frozenset({MANAGER}),
        "session_secret": "a-test-secret-of-enough-length",
        "zone": ZoneInfo("Asia/Shanghai"),
        "kb_paths": kb_paths,
        "thresholds": Thresholds(),
        **changes,
    }
    return ConsoleConfig(**values)  # type: ignore[arg-type]


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (in its meta tag and every form)."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sample_desk(folder: Path) -> Iterator[Desk]:
    """A desk on a fresh SQLite store in `folder`, with the sample knowledge base (for a fixture to yield from)."""
    from tests.conftest import SAMPLE_ENTRIES

    store = Store(f"sqlite:///{folder / 'crm.sqlite3'}")
    store.upgrade()
    desk = Desk(store=store, context=DeskContext(kb=KnowledgeBase.from_entries(SAMPLE_ENTRIES), clock=utcnow))
    yield desk
    desk.close()
