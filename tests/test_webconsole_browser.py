"""The web console in a real browser: headless Chromium (the system's, driven by Playwright) against the real bot.

The bot polls the fake Bot API as in the other end-to-end tests, and its web server serves the console on
loopback; the browser signs in the way Telegram's Login Widget redirects, walks queue → conversation →
reply, and the reply is seen arriving at the fake Bot API. Missing browser: skipped, unless
DESK_REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from app.web import console_routes, serve_web, stop_web, web_app
from crm_store import candidate_phrasings as phrasings_store
from crm_store.models import CandidatePhrasing, Contact, Export
from crm_store.types import utcnow
from knowledge.text import normalise
from tests.bot_harness import RunningBot, eventually, running_bot, stored, texts_sent
from tests.console_harness import CUSTOMER, MANAGER, STAFF, init_data, widget_payload

CHROMIUM = Path(os.environ.get("DESK_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("DESK_REQUIRE_BROWSER") == "1"
ROOT = Path(__file__).resolve().parent.parent
GROUP = -1001234
COMPLAINT = "你们太差了，快递一个星期还没到，我要投诉"
# Where screenshots go when set (to look at them); otherwise the test's own temporary folder.
SHOTS = os.environ.get("DESK_SCREENSHOTS")


def _browser_or_skip() -> None:
    problem = None
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed (pip install -e '.[dev]')"
    if problem is None and not CHROMIUM.exists():
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if problem:
        if REQUIRE_BROWSER:
            pytest.fail(f"DESK_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge" / "kb", folder)
    return folder


@asynccontextmanager
async def console_of(bot: RunningBot) -> AsyncIterator[str]:
    """The desk's web server with the console, on a free loopback port; its base URL."""
    app = web_app(bot.desk, lambda: 0.0, console_routes(bot.desk, bot.settings))
    server = await serve_web(app, "127.0.0.1", 0)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/console"
    finally:
        await stop_web(server)


@asynccontextmanager
async def chromium() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # Root has no user namespaces for Chromium's sandbox here; the browser only ever sees loopback.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            yield browser
        finally:
            await browser.close()


def _shot(tmp_path: Path, name: str) -> Path:
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _sections(kb: Path) -> dict:
    return {
        "roles": {"staff": [STAFF], "managers": [MANAGER]},
        "staff_group": {"chat_id": GROUP},
        "knowledge": {"paths": [str(kb)]},
    }


@asynccontextmanager
async def a_complaint_in_the_console(
    tmp_path: Path, kb: Path, first_name: str | None = None
) -> AsyncIterator[tuple[RunningBot, str, Any]]:
    """The bot with its console and a browser, after a customer's complaint reached the staff group."""
    _browser_or_skip()
    database = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    async with running_bot(database, **_sections(kb)) as bot, console_of(bot) as base, chromium() as browser:
        bot.fake.push_text(CUSTOMER, COMPLAINT, **({"first_name": first_name} if first_name else {}))
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        yield bot, base, browser


async def test_staff_sign_in_walk_the_queue_to_the_conversation_and_reply(tmp_path: Path, kb_copy: Path) -> None:
    """Signed in as staff, the queue shows the complaint; the reply typed on its page reaches the customer."""
    async with a_complaint_in_the_console(tmp_path, kb_copy, first_name="王芳") as (bot, base, browser):
        page = await browser.new_page(viewport={"width": 1100, "height": 640})  # type: ignore[attr-defined]

        # A visitor sees only the sign-in page.
        await page.goto(f"{base}/queue")
        assert page.url.endswith("/console/login") and "T000001" not in await page.content()

        # The Login Widget redirects with its signed fields in the query.
        await page.goto(f"{base}/login/telegram?{urlencode(widget_payload(STAFF, token=bot.fake.token))}")
        assert page.url.endswith("/console/queue")
        row = page.locator("tr[data-ticket='T000001']")
        await row.wait_for()
        assert "王芳" in await row.inner_text()
        await page.screenshot(path=_shot(tmp_path, "console-queue.png"))

        # Live: a second complaint shows up in the queue without a reload.
        bot.fake.push_text(CUSTOMER + 1, "我要投诉，商品质量太差", first_name="李雷")
        await page.locator("tr[data-ticket='T000002']").wait_for(timeout=15_000)

        await row.get_by_role("link", name="T000001").click()
        await page.wait_for_url("**/console/customers/*")
        assert COMPLAINT in await page.locator("#history").inner_text()
        await page.fill("#reply-text", "非常抱歉，我们马上为您查询物流")
        await page.click("#send-reply")
        await page.wait_for_url("**/console/customers/*")
        await page.get_by_text("非常抱歉，我们马上为您查询物流").wait_for()

        # The reply reached the customer through the bot, and staff in the topic see it too.
        await eventually(lambda: "非常抱歉，我们马上为您查询物流" in texts_sent(bot, CUSTOMER), timeout=10)
        await eventually(lambda: any("马上为您查询物流" in text for text in texts_sent(bot, GROUP)), timeout=30)
        staff_reply = [c for c in stored(bot, Contact) if c.actor == "staff"]
        assert [(c.staff_user_id, c.delivery_error) for c in staff_reply] == [(STAFF, None)]
        await page.reload()
        await page.screenshot(path=_shot(tmp_path, "console-conversation.png"), full_page=True)

        # On a phone-sized viewport (Telegram's Mini App), the same page stacks.
        phone = await browser.new_page(viewport={"width": 390, "height": 760})  # type: ignore[attr-defined]
        await phone.context.add_cookies(await page.context.cookies())
        await phone.goto(page.url)
        await phone.screenshot(path=_shot(tmp_path, "console-phone.png"))
        # Resolved from the page: the customer is asked for a score, the topic is told who did it.
        await page.fill("#resolution", "已联系快递，明天送达")
        await page.click("#do-resolve")
        await page.locator("#done").wait_for()
        await eventually(lambda: any("明天送达" in text for text in texts_sent(bot, CUSTOMER)), timeout=10)
        await eventually(lambda: any("🖥" in t and "T000001" in t for t in texts_sent(bot, GROUP)), timeout=30)
        # Search across conversations: the complaint is found and opens its conversation.
        await page.goto(f"{base}/search")
        await page.fill("input[name=q]", "快递 投诉")
        await page.click("#search-form button")
        hit = page.locator("tr[data-contact]", has_text="一个星期")
        await hit.get_by_role("link").first.click()
        await page.wait_for_url("**/console/customers/*")
        assert COMPLAINT in await page.locator("#history").inner_text()
        # Staff are not managers: the reports page is refused on the server.
        answer = await page.goto(f"{base}/reports")
        assert answer is not None and answer.status == 403


async def test_a_manager_accepts_a_candidate_and_downloads_the_log_export(tmp_path: Path, kb_copy: Path) -> None:
    """A manager accepts a phrasing into the YAML file from the page, and downloads an audited CSV."""
    async with a_complaint_in_the_console(tmp_path, kb_copy) as (bot, base, browser):
        words = "东西坏了能不能退"
        with bot.desk.store.transaction() as session:
            phrasings_store.record_candidate(session, "return-how", words, normalise(words), "staff", utcnow())
        page = await browser.new_page(viewport={"width": 1100, "height": 600})  # type: ignore[attr-defined]
        await page.goto(f"{base}/login/telegram?{urlencode(widget_payload(MANAGER, token=bot.fake.token))}")

        await page.goto(f"{base}/knowledge")
        candidate = page.locator("tr[data-candidate]", has_text=words)
        await page.screenshot(path=_shot(tmp_path, "console-knowledge.png"))
        await candidate.locator("button.accept").click()
        await page.locator("#done").wait_for()
        assert "returns.yaml" in await page.locator("#done").inner_text()
        assert words in (kb_copy / "returns.yaml").read_text(encoding="utf-8")
        [decided] = stored(bot, CandidatePhrasing)
        assert (decided.status, decided.decided_by_user_id) == ("accepted", MANAGER)

        await page.goto(f"{base}/reports")
        await page.fill("input[name=period]", "7d")
        await page.select_option("select[name=actor]", "customer")
        async with page.expect_download() as waiting:
            await page.click("#download")
        download = await waiting.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        assert saved.suffix == ".csv" and COMPLAINT in saved.read_text(encoding="utf-8-sig")
        [export] = stored(bot, Export)
        assert (export.channel, export.user_id, export.rows) == ("web", MANAGER, 1)

        # The report for a period: its figures, and every chart drawn as an image the browser shows.
        await page.click("#draw")
        await page.locator("#summary").wait_for(timeout=30_000)
        assert "客户消息 Customer messages: 1" in await page.locator("#summary").inner_text()
        images = page.locator(".charts img")
        assert await images.count() == 7
        for index in range(7):
            await images.nth(index).scroll_into_view_if_needed()
            await page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=await images.nth(index).element_handle()
            )
        await page.screenshot(path=_shot(tmp_path, "console-report.png"), full_page=True)

        # The entry editor: an edit that would not load is shown, and the file is left as it was.
        before = (kb_copy / "returns.yaml").read_text(encoding="utf-8")
        await page.goto(f"{base}/knowledge/entries/return-how")
        await page.fill("#entry-answer", "")
        await page.click("#save-entry")
        await page.locator("#problems").wait_for()
        assert "answer" in await page.locator("#problems").inner_text()
        assert (kb_copy / "returns.yaml").read_text(encoding="utf-8") == before


async def test_staff_and_managers_get_the_console_as_a_mini_app_button(tmp_path: Path, kb_copy: Path) -> None:
    """With an https public URL, each person in [roles] gets a menu button that opens the console's sign-in."""
    database = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    web = {"public_url": "https://desk.example.com/"}
    async with running_bot(database, **_sections(kb_copy), web=web) as bot:
        calls = await bot.fake.wait_for("setChatMenuButton", 2)
        assert sorted(call.params["chat_id"] for call in calls) == [STAFF, MANAGER]
        button = calls[0].params["menu_button"]
        assert button["type"] == "web_app" and button["web_app"]["url"] == "https://desk.example.com/console/login"


async def test_the_mini_app_signs_in_with_the_init_data_telegram_gives_it(tmp_path: Path, kb_copy: Path) -> None:
    """Opened from the menu button, the sign-in page posts the initData of its URL fragment and shows the queue."""
    async with a_complaint_in_the_console(tmp_path, kb_copy) as (bot, base, browser):
        page = await browser.new_page(viewport={"width": 390, "height": 700})  # type: ignore[attr-defined]
        fragment = urlencode({"tgWebAppData": init_data(STAFF, token=bot.fake.token), "tgWebAppVersion": "8.0"})
        await page.goto(f"{base}/login#{fragment}")
        await page.wait_for_url("**/console/queue")
        await page.locator("tr[data-ticket='T000001']").wait_for()
        # A customer's initData, genuinely signed, leaves them on the sign-in page.
        other = await browser.new_page()  # type: ignore[attr-defined]
        fragment = urlencode({"tgWebAppData": init_data(CUSTOMER, token=bot.fake.token)})
        await other.goto(f"{base}/login#{fragment}")
        await other.get_by_text("登录失败").wait_for()
        assert other.url.split("#")[0].endswith("/console/login")


async def test_a_customer_a_forged_hash_an_old_sign_in_and_a_form_without_its_csrf_token_are_refused(
    tmp_path: Path, kb_copy: Path
) -> None:
    """A customer's genuine payload, and what a browser can be made to send: each is refused on the server, the
    browser stays on the sign-in page, and nothing reaches the customer."""
    async with a_complaint_in_the_console(tmp_path, kb_copy) as (bot, base, browser):
        page = await browser.new_page()  # type: ignore[attr-defined]
        forged = {**widget_payload(STAFF, token=bot.fake.token), "id": str(MANAGER)}  # the hash signed another id
        stale = widget_payload(STAFF, token=bot.fake.token, auth_date=int(time.time()) - 3 * 86_400)
        customer = widget_payload(CUSTOMER, token=bot.fake.token)
        for payload in (customer, forged, stale, widget_payload(STAFF, token="123:not-this-bot")):
            answer = await page.goto(f"{base}/login/telegram?{urlencode(payload)}")
            assert answer is not None and answer.status == 403
            assert await page.locator("#refused").is_visible()
            await page.goto(f"{base}/queue")
            assert page.url.endswith("/console/login") and "T000001" not in await page.content()

        # Signed in for real, a reply form whose CSRF token was taken out is refused and sends nothing.
        await page.goto(f"{base}/login/telegram?{urlencode(widget_payload(STAFF, token=bot.fake.token))}")
        await page.locator("tr[data-ticket='T000001']").get_by_role("link", name="T000001").click()
        await page.wait_for_url("**/console/customers/*")
        await page.fill("#reply-text", "这条不应该发出去")
        await page.evaluate("document.querySelector('#reply-form input[name=csrf]').remove()")
        async with page.expect_response(lambda response: response.request.method == "POST") as posted:
            await page.click("#send-reply")
        assert (await posted.value).status == 403
        await asyncio.sleep(1.0)  # what a wrongly accepted reply would need to reach the fake Bot API
        assert not any("不应该发出去" in text for text in texts_sent(bot, CUSTOMER))
        assert not [c for c in stored(bot, Contact) if c.actor == "staff"]
        with bot.desk.store.transaction() as session:
            assert session.scalar(sa.select(sa.func.count(Export.id))) == 0
