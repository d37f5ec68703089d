"""The web console over plain HTTP: who gets in, what every route refuses, and what a page does in the store.

Each test drives the console's ASGI app with Starlette's TestClient over a real desk and SQLite store.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.routing import Route
from starlette.testclient import TestClient

from crm_store import Contact
from crm_store import candidate_phrasings as phrasings_store
from crm_store.models import CandidatePhrasing, Export, OutboxMessage, Ticket, TicketEvent
from crm_store.types import utcnow
from desk.messages import ContentKind, CustomerRef, Inbound
from desk.service import Desk
from knowledge.text import normalise
from tests.console_harness import (
    CUSTOMER,
    MANAGER,
    STAFF,
    console_config,
    csrf_of,
    init_data,
    sample_desk,
    widget_payload,
)
from webconsole import LocalLogin, console_app
from webconsole.auth import LoginRefused, check_init_data, check_widget

ROOT = Path(__file__).resolve().parent.parent
COMPLAINT = "你们太差了，快递一个星期还没到，我要投诉"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    yield from sample_desk(tmp_path)


def _complain(desk: Desk, user_id: int = CUSTOMER, text: str = COMPLAINT) -> None:
    ref = CustomerRef("telegram", str(user_id), display_name="王芳", username="wangfang", chat_id=user_id)
    asyncio.run(desk.handle(Inbound(ref, ContentKind.TEXT, text, datetime.now(UTC), message_id=1)))


def _rows(desk: Desk, model: type) -> list:
    with desk.store.transaction() as session:
        rows = list(session.scalars(sa.select(model).order_by(model.id)))
        session.expunge_all()
        return rows


def _client(desk: Desk, **changes: object) -> TestClient:
    local = changes.pop("local", None)
    config = console_config(**changes)  # type: ignore[arg-type]
    return TestClient(console_app(desk, config, local), base_url="http://testserver", follow_redirects=False)


def _signed_in(client: TestClient, user_id: int) -> str:
    """Sign in through the Login Widget's redirect; the CSRF token of the session."""
    answer = client.get("/login/telegram", params=widget_payload(user_id))
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/queue", headers={"accept": "text/html"}).text)


def test_a_staff_member_signs_in_with_the_widget_and_sees_the_queue(desk: Desk) -> None:
    """A valid widget payload for a configured staff id opens a session; the queue lists the open complaint."""
    _complain(desk)
    client = _client(desk)
    answer = client.get("/login/telegram", params=widget_payload(STAFF))
    assert answer.status_code == 303 and answer.headers["location"].endswith("/queue")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = client.get("/queue", headers={"accept": "text/html"})
    assert page.status_code == 200 and "T000001" in page.text and "王芳" in page.text and "23小时" in page.text


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(widget_payload(CUSTOMER), id="a customer's id"),
        pytest.param({**widget_payload(STAFF), "hash": "0" * 64}, id="a forged hash"),
        pytest.param(widget_payload(STAFF, token="654321:another-bot"), id="signed for another bot"),
        pytest.param(widget_payload(STAFF, auth_date=int(time.time()) - 2 * 86400), id="an old auth_date"),
        pytest.param({**widget_payload(STAFF), "id": str(MANAGER)}, id="a changed field"),
        pytest.param({k: v for k, v in widget_payload(STAFF).items() if k != "hash"}, id="no hash"),
    ],
)
def test_sign_in_is_refused_and_nothing_is_shown(desk: Desk, payload: dict[str, str]) -> None:
    """Anything but a fresh payload signed for this bot, for a staff id, leaves the visitor on the login page."""
    _complain(desk)
    client = _client(desk)
    answer = client.get("/login/telegram", params=payload)
    assert answer.status_code == 403 and "T000001" not in answer.text
    assert client.get("/queue", headers={"accept": "text/html"}).headers["location"].endswith("/login")
    assert client.get("/queue/rows").status_code == 401


def test_every_route_but_the_login_checks_the_role_on_the_server(desk: Desk) -> None:
    """Without a session every route is refused (401, or to the login page); staff cannot reach managers' pages."""
    app = console_app(desk, console_config())
    client = TestClient(app, follow_redirects=False)
    open_routes = {"/", "/login", "/login/telegram", "/login/webapp", "/login/local", "/lang"}
    guarded = [route for route in app.routes if isinstance(route, Route) and route.path not in open_routes]
    assert len(guarded) >= 10
    for route in guarded:
        path = re.sub(r"\{\w+:int\}", "1", route.path).replace("{verdict:str}", "accept")
        for method in route.methods or ():
            if method == "HEAD":
                continue
            assert client.request(method, path).status_code == 401, f"{method} {path} served without a session"
    _signed_in(client, STAFF)
    assert client.get("/reports").status_code == 403
    assert client.get("/knowledge").status_code == 403
    assert client.get("/reports/charts/1/0.png").status_code == 403


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(desk: Desk) -> None:
    """A reply posted without (or with a wrong) CSRF token is refused; nothing is recorded or queued."""
    _complain(desk)
    client = _client(desk)
    _signed_in(client, STAFF)
    [ticket] = _rows(desk, Ticket)
    before = len(_rows(desk, Contact))
    assert client.post(f"/customers/{ticket.customer_id}/reply", data={"text": "您好"}).status_code == 403
    wrong = {"text": "您好", "csrf": "not-the-token"}
    assert client.post(f"/customers/{ticket.customer_id}/reply", data=wrong).status_code == 403
    assert len(_rows(desk, Contact)) == before


def test_a_reply_from_the_page_is_recorded_as_a_staff_reply_and_queued_for_the_customer(desk: Desk) -> None:
    """The page's reply takes the ticket, records a staff contact (who, ticket, first response) and queues it."""
    _complain(desk)
    client = _client(desk)
    csrf = _signed_in(client, STAFF)
    [ticket] = _rows(desk, Ticket)
    page = client.get(f"/customers/{ticket.customer_id}", headers={"accept": "text/html"})
    assert COMPLAINT in page.text and "T000001" in page.text
    answer = client.post(f"/customers/{ticket.customer_id}/reply", data={"text": "非常抱歉，马上为您查", "csrf": csrf})
    assert answer.status_code == 303
    reply = _rows(desk, Contact)[-1]
    assert (reply.actor, reply.direction, reply.staff_user_id, reply.intent) == ("staff", "out", STAFF, "staff_reply")
    assert reply.ticket_id == ticket.id and reply.text == "非常抱歉，马上为您查"
    [ticket] = _rows(desk, Ticket)
    assert ticket.assignee_user_id == STAFF and ticket.first_response_at is not None
    queued = [row for row in _rows(desk, OutboxMessage) if row.contact_id == reply.id]
    assert [(row.lane, row.kind, row.chat_id) for row in queued] == [("customer", "reply", CUSTOMER)]


def test_take_note_and_resolve_from_the_page_are_the_topic_commands(desk: Desk) -> None:
    """The page's buttons run the same commands as the topic: assigned, a note, resolved with a rating prompt."""
    _complain(desk)
    client = _client(desk)
    csrf = _signed_in(client, STAFF)
    [ticket] = _rows(desk, Ticket)
    url = f"/customers/{ticket.customer_id}/command"
    for command, argument in (("take", ""), ("note", "客户很着急"), ("resolve", "已补发")):
        assert client.post(url, data={"command": command, "argument": argument, "csrf": csrf}).status_code == 303
    actions = [event.action for event in _rows(desk, TicketEvent)]
    assert {"assigned", "note", "resolved"} <= set(actions)
    [ticket] = _rows(desk, Ticket)
    assert ticket.status == "resolved" and ticket.resolution == "已补发"
    assert "已补发" in _rows(desk, Contact)[-1].text  # the rating prompt, recorded and queued
    page = client.get(f"/customers/{ticket.customer_id}", headers={"accept": "text/html"}).text
    assert "客户很着急" in page and "已解决" in page and "resolved" not in page
    refused = client.post(url, data={"command": "erase", "argument": "", "csrf": csrf})
    assert refused.status_code == 303 and _rows(desk, Ticket)[0].status == "resolved"


def test_a_mini_app_signs_in_with_its_init_data(desk: Desk) -> None:
    """initData signed with the WebAppData key opens a session; forged, old or a customer's is refused."""
    client = _client(desk)
    assert client.post("/login/webapp", data={"init_data": init_data(CUSTOMER)}).status_code == 403
    forged = init_data(STAFF).replace("hash=", "hash=0")
    assert client.post("/login/webapp", data={"init_data": forged}).status_code == 403
    old = init_data(STAFF, auth_date=int(time.time()) - 3 * 86400)
    assert client.post("/login/webapp", data={"init_data": old}).status_code == 403
    widget_signed = "&".join(f"{k}={v}" for k, v in widget_payload(STAFF).items())
    assert client.post("/login/webapp", data={"init_data": widget_signed}).status_code == 403
    answer = client.post("/login/webapp", data={"init_data": init_data(STAFF)})
    assert answer.status_code == 200 and answer.json()["ok"]
    assert client.get("/queue", headers={"accept": "text/html"}).status_code == 200


def test_login_attempts_are_rate_limited(desk: Desk) -> None:
    """After ten attempts in a minute from one client, even a valid payload waits."""
    client = _client(desk)
    for _ in range(10):
        assert client.get("/login/telegram", params={"id": "1", "hash": "x"}).status_code == 403
    assert client.get("/login/telegram", params=widget_payload(STAFF)).status_code == 429


def test_the_one_time_local_link_signs_in_once(desk: Desk) -> None:
    """Console mode's printed link signs one browser in as a manager; used again, or without console mode, it fails."""
    local = LocalLogin()
    key = local.key
    client = _client(desk, local=local, local_login=True, token="")
    assert client.get("/login/local", params={"key": "wrong"}).status_code == 403
    assert client.get("/login/local", params={"key": key}).status_code == 303
    assert client.get("/reports", headers={"accept": "text/html"}).status_code == 200
    other = _client(desk, local=local, local_login=True, token="")
    assert other.get("/login/local", params={"key": key}).status_code == 403
    # With no token, no widget payload can be valid: the empty key signs nothing.
    assert other.get("/login/telegram", params=widget_payload(STAFF, token="")).status_code == 403
    # Not in console mode, the link is refused even with the right key.
    assert _client(desk, local=LocalLogin(key="k")).get("/login/local", params={"key": "k"}).status_code == 403


def test_a_manager_downloads_the_log_export_and_it_is_audited(desk: Desk) -> None:
    """The export takes /logs' filters, downloads a CSV and records who pulled what in `exports`."""
    _complain(desk)
    client = _client(desk)
    csrf = _signed_in(client, MANAGER)
    answer = client.post("/reports/logs", data={"period": "7d", "actor": "customer", "format": "csv", "csrf": csrf})
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8-sig")
    assert COMPLAINT in text and answer.headers["x-export-rows"] == "1"
    [export] = _rows(desk, Export)
    assert (export.channel, export.user_id, export.rows, export.format) == ("web", MANAGER, 1, "csv")
    assert "actor=customer" in export.filters
    bad = client.post("/reports/logs", data={"period": "someday", "csrf": csrf})
    assert bad.status_code == 400 and "Usage" in bad.text
    _signed_in(client, STAFF)
    assert client.post("/reports/logs", data={"period": "7d", "csrf": csrf_of_page(client)}).status_code == 403


def csrf_of_page(client: TestClient) -> str:
    return csrf_of(client.get("/queue", headers={"accept": "text/html"}).text)


def test_a_manager_accepts_a_candidate_into_the_knowledge_file(desk: Desk, tmp_path: Path) -> None:
    """Accepting from the page writes the phrasing into its entry's YAML file and reloads the knowledge base."""
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge" / "kb", kb)
    with desk.store.transaction() as session:
        words = "东西坏了能不能退"
        candidate = phrasings_store.record_candidate(session, "return-how", words, normalise(words), "staff", utcnow())
        assert candidate is not None
        session.flush()
        candidate_id = candidate.id
    client = _client(desk, kb_paths=(kb,))
    csrf = _signed_in(client, MANAGER)
    assert words in client.get("/knowledge", headers={"accept": "text/html"}).text
    answer = client.post(f"/knowledge/{candidate_id}/accept", data={"csrf": csrf})
    assert answer.status_code == 303
    assert words in (kb / "returns.yaml").read_text(encoding="utf-8")
    [decided] = _rows(desk, CandidatePhrasing)
    assert (decided.status, decided.decided_by_user_id) == ("accepted", MANAGER)
    assert desk.kb.get("return-how") is not None and words in desk.kb.get("return-how").phrasings


def test_the_signature_checks_follow_telegrams_documentation() -> None:
    """The checks themselves: a good payload names its user; a payload a second too old for the limit fails."""
    now = time.time()
    user = check_widget(widget_payload(STAFF, auth_date=int(now), username="li"), "123456:TEST-token-for-the-console")
    assert (user.id, user.username) == (STAFF, "li")
    with pytest.raises(LoginRefused):
        check_widget(widget_payload(STAFF, auth_date=int(now) - 86401), "123456:TEST-token-for-the-console", now=now)
    with pytest.raises(LoginRefused):
        check_widget(widget_payload(STAFF, auth_date=int(now) + 3600), "123456:TEST-token-for-the-console", now=now)
    assert check_init_data(init_data(STAFF), "123456:TEST-token-for-the-console").name == "王 芳"


def test_taking_someone_out_of_the_roles_ends_their_session_at_once(desk: Desk) -> None:
    """The role is looked up on every request: a signed-in staff member removed from [roles] is shown the door."""
    client = _client(desk)
    _signed_in(client, STAFF)
    later = TestClient(console_app(desk, console_config(staff=frozenset())), follow_redirects=False)
    later.cookies = client.cookies
    assert later.get("/queue/rows").status_code == 401
    assert client.get("/queue/rows").status_code == 200


def test_the_customers_list_searches_names_and_filters_by_tag(desk: Desk) -> None:
    """Customers by last contact; a search by name and a tag filter narrow the list."""
    _complain(desk)
    ref = CustomerRef("telegram", "7007", display_name="李雷", chat_id=7007)
    asyncio.run(desk.handle(Inbound(ref, ContentKind.TEXT, "怎么退货", datetime.now(UTC), message_id=2)))
    client = _client(desk)
    _signed_in(client, STAFF)
    html = {"accept": "text/html"}
    everyone = client.get("/customers", headers=html).text
    assert "王芳" in everyone and "李雷" in everyone
    found = client.get("/customers", params={"q": "李"}, headers=html).text
    assert "李雷" in found and "王芳" not in found
    tagged = client.get("/customers", params={"tag": "open_complaint"}, headers=html).text
    assert "王芳" in tagged and "李雷" not in tagged
