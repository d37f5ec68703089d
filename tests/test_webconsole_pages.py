"""The console's search, reports and knowledge pages over HTTP: what they show, and who may see them.

Each test drives the console's ASGI app with Starlette's TestClient over a real desk and SQLite store, as
tests/test_webconsole_access.py does.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm_store import Contact
from crm_store.models import Export
from desk import views
from desk.service import Desk
from tests.console_harness import CUSTOMER, MANAGER, STAFF, csrf_of, sample_desk
from tests.test_webconsole_access import _client, _complain, _signed_in

ROOT = Path(__file__).resolve().parent.parent
HTML = {"accept": "text/html"}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    yield from sample_desk(tmp_path)


def test_search_finds_messages_newest_first_and_links_each_to_its_conversation(desk: Desk) -> None:
    """The page runs the desk's /search: every word must match, newest first, each hit opens its customer."""
    _complain(desk, CUSTOMER, "快递一个星期还没到，我要投诉")
    _complain(desk, CUSTOMER + 1, "快递丢了，我要投诉，太差了")
    client = _client(desk)
    _signed_in(client, STAFF)
    page = client.get("/search", params={"q": "快递 投诉"}, headers=HTML)
    assert page.status_code == 200
    rows = re.findall(r'<tr data-contact="(\d+)">.*?href="[^"]*/customers/(\d+)"', page.text, re.S)
    assert len(rows) == 2
    assert int(rows[0][0]) > int(rows[1][0])  # newest first
    for _, customer_id in rows:
        assert client.get(f"/customers/{customer_id}", headers=HTML).status_code == 200
    assert "快递丢了" in page.text.split('data-contact="')[1]
    assert len(re.findall(r"<tr data-contact=", client.get("/search", params={"q": "丢了 投诉"}).text)) == 1


def test_search_limits_to_a_period_and_explains_a_bad_one(desk: Desk) -> None:
    """A period keeps the hits inside it; one that cannot be read is refused with the reason, as /search would."""
    _complain(desk)
    client = _client(desk)
    _signed_in(client, STAFF)
    assert "data-contact=" in client.get("/search", params={"q": "快递", "period": "7d"}).text
    assert "data-contact=" not in client.get("/search", params={"q": "快递", "period": "2020-01"}).text
    bad = client.get("/search", params={"q": "快递", "period": "next-week"})
    assert bad.status_code == 400 and 'id="search-error"' in bad.text
    assert "data-contact=" not in client.get("/search").text  # no words: only the form


def test_search_is_for_staff_only(desk: Desk) -> None:
    """Without a session the search answers nothing; staff and managers may search."""
    _complain(desk)
    client = _client(desk)
    assert client.get("/search", params={"q": "快递"}).status_code == 401
    assert client.get("/search", params={"q": "快递"}, headers=HTML).status_code == 303
    _signed_in(client, MANAGER)
    assert client.get("/search", params={"q": "快递"}).status_code == 200


def test_the_knowledge_page_lists_the_questions_the_bot_could_not_answer(desk: Desk) -> None:
    """The `/unanswered` list on the page: most frequent first, each linking to a search for the messages."""
    for customer in (CUSTOMER, CUSTOMER + 1, CUSTOMER + 2):
        _complain(desk, customer, "量子纠缠是什么")
    _complain(desk, CUSTOMER + 3, "宇宙有多大")
    client = _client(desk)
    _signed_in(client, MANAGER)
    page = client.get("/knowledge", headers=HTML).text
    listed = page.split('id="unanswered"')[1]
    assert listed.index("×3") < listed.index("量子纠缠是什么") < listed.index("×1") < listed.index("宇宙有多大")
    assert "/search?q=" in listed
    assert 'name="days" value="30"' in client.get("/knowledge", params={"days": "abc"}).text  # the default
    _signed_in(client, STAFF)
    assert client.get("/knowledge").status_code == 403


def test_a_manager_draws_the_report_for_a_period_with_its_figures_and_charts(desk: Desk) -> None:
    """`?period=` runs the report /report makes: its summary, the per-staff table, each chart as a PNG, audited."""
    _complain(desk)
    client = _client(desk)
    _signed_in(client, MANAGER)
    page = client.get("/reports", params={"period": "7d"}, headers=HTML)
    assert page.status_code == 200, page.text
    assert "客户消息 Customer messages: 1" in page.text and 'class="staff-figures"' in page.text
    charts = re.findall(r'<img src="([^"]+\.png)"', page.text)
    assert len(charts) == 7
    for url in charts:
        image = client.get(url)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")
    with desk.store.transaction() as session:
        [audited] = session.scalars(sa.select(Export).where(Export.what == "report")).all()
        assert (audited.channel, audited.user_id) == ("web", MANAGER)
    assert client.get("/reports/charts/99999/0.png").status_code == 404


def test_the_report_reads_periods_as_report_does_and_is_for_managers_only(desk: Desk) -> None:
    """A period /report refuses is refused here with the same words; staff get neither the page nor a chart."""
    client = _client(desk)
    _signed_in(client, MANAGER)
    bad = client.get("/reports", params={"period": "someday"}, headers=HTML)
    assert bad.status_code == 400 and "时间段有误" in bad.text and 'id="report"' not in bad.text
    drawn = client.get("/reports", params={"period": "2026-11"}, headers=HTML).text
    assert "2026-11" in drawn.split('id="summary"')[1][:200]
    chart = re.findall(r'<img src="([^"]+\.png)"', drawn)[0]
    _signed_in(client, STAFF)
    assert client.get("/reports", params={"period": "7d"}).status_code == 403
    assert client.get(chart).status_code == 403


def test_the_conversation_page_links_to_earlier_contacts_and_back(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """A history longer than a page shows the newest contacts and an "earlier" link; that page links back."""
    monkeypatch.setattr(views, "HISTORY_PAGE", 1)
    _complain(desk, CUSTOMER, "第一条：快递还没到，我要投诉")
    _complain(desk, CUSTOMER, "第二条：还是没到")
    client = _client(desk)
    _signed_in(client, STAFF)
    with desk.store.transaction() as session:
        customer_id = session.scalar(sa.select(Contact.customer_id))
    newest = client.get(f"/customers/{customer_id}", headers=HTML).text
    earlier = re.search(r'id="earlier" href="([^"]+)"', newest)
    assert earlier and "第一条" not in newest and 'id="newest"' not in newest
    older = client.get(f"/customers/{customer_id}{earlier.group(1)}", headers=HTML).text
    assert 'id="newest"' in older and "第二条" not in older
    assert client.get(f"/customers/{customer_id}?before=abc", headers=HTML).status_code == 200


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge" / "kb", folder)
    return folder


def test_a_manager_edits_an_entry_its_file_keeps_its_comments_and_the_desk_reloads(desk: Desk, kb: Path) -> None:
    """Question, answer and alternates are written into the entry's YAML file (comments kept), and reloaded."""
    client = _client(desk, kb_paths=(kb,))
    csrf = _signed_in(client, MANAGER)
    page = client.get("/knowledge/entries/account-forgot-password", headers=HTML)
    assert page.status_code == 200 and "密码忘了" in page.text
    # A comment of the author's own, on an alternate that stays.
    text = (kb / "account.yaml").read_text(encoding="utf-8")
    (kb / "account.yaml").write_text(
        text.replace("      - 密码忘了\n", "      - 密码忘了  # 最常见的说法\n", 1), "utf-8"
    )
    before = (kb / "account.yaml").read_text(encoding="utf-8")
    assert "# 最常见的说法" in before
    form = {
        "csrf": csrf,
        "question": "忘记密码了怎么办？",
        "answer": "在登录页点击「忘记密码」。\n按提示设置新密码。",
        "alternates": "密码忘了\n怎么重置密码\n登录密码想不起来了",
    }
    saved = client.post("/knowledge/entries/account-forgot-password/save", data=form)
    assert saved.status_code == 303, saved.text
    after = (kb / "account.yaml").read_text(encoding="utf-8")
    assert after.splitlines()[0] == before.splitlines()[0] and after.splitlines()[0].startswith("#")
    alternates = after.split("account-forgot-password")[1].split("keywords:")[0]
    assert "登录密码想不起来了" in alternates and "找回密码" not in alternates
    assert "- 密码忘了  # 最常见的说法" in alternates
    assert "answer: |" in after.split("account-forgot-password")[1][:600]
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == [
        line for line in before.splitlines() if line.lstrip().startswith("#")
    ]
    entry = desk.kb.get("account-forgot-password")
    assert entry is not None and entry.question == "忘记密码了怎么办？" and "登录密码想不起来了" in entry.alternates
    untouched = [part for part in before.split("\n  - id: ") if not part.startswith("account-forgot-password")]
    assert all(part in after for part in untouched)


def test_a_broken_edit_is_shown_with_file_entry_and_field_and_nothing_is_saved(desk: Desk, kb: Path) -> None:
    """An empty answer fails the loader's check: the page names the file, the entry and the field; the file
    and the serving knowledge base stay as they were. Staff cannot edit at all."""
    client = _client(desk, kb_paths=(kb,))
    csrf = _signed_in(client, MANAGER)
    before = (kb / "account.yaml").read_text(encoding="utf-8")
    form = {"csrf": csrf, "question": "忘记密码怎么办？", "answer": "", "alternates": "密码忘了"}
    refused = client.post("/knowledge/entries/account-forgot-password/save", data=form)
    assert refused.status_code == 422
    problems = refused.text.split('id="problems"')[1]
    assert "account.yaml" in problems and "account-forgot-password" in problems and "<td>answer</td>" in problems
    assert (kb / "account.yaml").read_text(encoding="utf-8") == before
    assert not list(kb.glob("*.tmp"))
    assert client.get("/knowledge/entries/no-such-entry", headers=HTML).status_code == 404
    assert "form" in client.get("/knowledge/entries", headers=HTML).text
    _signed_in(client, STAFF)
    assert client.get("/knowledge/entries/account-forgot-password").status_code == 403
    staff_csrf = csrf_of(client.get("/queue", headers=HTML).text)
    form = {"csrf": staff_csrf, "question": "改了", "answer": "改了", "alternates": ""}
    assert client.post("/knowledge/entries/account-forgot-password/save", data=form).status_code == 403
    assert (kb / "account.yaml").read_text(encoding="utf-8") == before


def test_ticket_states_priorities_and_tags_are_in_the_page_language(desk: Desk) -> None:
    """The store keeps `open` and `normal`; a Chinese page says 待处理 and 普通, an English one open and normal."""
    _complain(desk, CUSTOMER, "快递一个星期还没到，我要投诉")
    client = _client(desk)
    _signed_in(client, STAFF)
    queue = client.get("/queue", headers=HTML).text
    (priority,) = re.findall(r'<td class="priority (\w+)">([^<]*)</td>', queue)
    assert priority[1] == {"urgent": "紧急", "high": "高", "normal": "普通", "low": "低"}[priority[0]]
    customer = re.search(r'href="[^"]*/customers/(\d+)"', queue)
    assert customer is not None
    page = client.get(f"/customers/{customer.group(1)}", headers=HTML).text
    assert "· 待处理 ·" in page and "· open ·" not in page
    # The tags the rules set, by their names in the page's language (the name staff type in the title).
    assert 'title="new">新客户<' in page and 'title="open_complaint">投诉未结<' in page
    client.get("/lang", params={"to": "en"}, follow_redirects=False)
    english = client.get(f"/customers/{customer.group(1)}", headers=HTML).text
    assert "· open ·" in english and "待处理" not in english and 'title="open_complaint">open complaint<' in english
