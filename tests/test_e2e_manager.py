"""End to end: managers pull logs and reports through the real Application and the fake Bot API."""

from __future__ import annotations

import csv
import html
import io
import zipfile
from datetime import datetime

import matplotlib.image
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

import handlers.manager
from crm_store.models import Contact, Export
from tests.bot_harness import RunningBot, eventually, running_bot
from tests.fake_bot_api import ApiCall
from tests.test_reports_queries import seed_history

# The same tests over both Bot API transports (aiohttp, the default, and httpx, the fallback).
pytestmark = pytest.mark.usefixtures("each_http_client")

MANAGER, STAFF, CUSTOMER = 7001, 7002, 5551
GROUP, OTHER_GROUP = -1001234, -100123
ROLES = {"managers": [MANAGER], "staff": [STAFF]}
WEEK = "2026-11-04..2026-11-10"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _seed(bot: RunningBot) -> None:
    with bot.desk.store.transaction() as session:
        seed_history(session)


def _exports(bot: RunningBot) -> list[Export]:
    with bot.desk.store.transaction() as session:
        return list(session.scalars(sa.select(Export).order_by(Export.id)))


def _week_texts(bot: RunningBot, **where: str) -> list[str]:
    # The week in Shanghai time, as UTC instants.
    start, end = datetime.fromisoformat("2026-11-03T16:00+00:00"), datetime.fromisoformat("2026-11-10T16:00+00:00")
    stmt = sa.select(Contact.text).where(Contact.at >= start, Contact.at < end).order_by(Contact.at, Contact.id)
    for column, value in where.items():
        stmt = stmt.where(getattr(Contact, column) == value)
    with bot.desk.store.transaction() as session:
        return list(session.scalars(stmt))


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8 Chinese"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_manager_gets_the_week_as_csv_matching_the_store(database_url: str) -> None:
    """/logs for a week sends one CSV whose rows are exactly the week's contacts, and the pull is audited."""
    async with running_bot(database_url, roles=ROLES) as bot:
        _seed(bot)
        bot.fake.push_text(MANAGER, f"/logs {WEEK}", first_name="经理", username="boss")
        [call] = await bot.fake.wait_for("sendDocument", chat_id=MANAGER, timeout=15)
        upload = call.files["document"]
        assert upload.filename == "logs_2026-11-04_2026-11-10.csv"
        header, *rows = _csv_rows(upload.content)
        assert header[0] == "时间 Time (Asia/Shanghai)" and len(header) == 14
        expected = _week_texts(bot)
        # Customer text that looks like a formula is neutralised with a leading quote.
        assert [row[7].removeprefix("'") for row in rows] == expected and len(rows) == 11
        assert "11 条记录" in call.params["caption"]
        [export] = _exports(bot)
        assert (export.what, export.user_id, export.rows, export.format, export.channel) == (
            "logs", MANAGER, 11, "csv", "telegram",
        )  # fmt: skip
        assert export.filters == WEEK and export.user_name == "经理 (@boss)"


async def test_filtered_xlsx_holds_only_the_matching_contacts(database_url: str) -> None:
    """intent=no_answer actor=customer format=xlsx: a workbook with the two unanswered questions only."""
    async with running_bot(database_url, roles=ROLES) as bot:
        _seed(bot)
        bot.fake.push_text(MANAGER, f"/logs {WEEK} intent=no_answer actor=customer format=xlsx")
        [call] = await bot.fake.wait_for("sendDocument", chat_id=MANAGER, timeout=15)
        upload = call.files["document"]
        assert upload.filename.endswith(".xlsx")
        sheet = load_workbook(io.BytesIO(upload.content), read_only=True).active
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        assert [row[7] for row in rows] == _week_texts(bot, intent="no_answer", actor="customer")
        assert len(rows) == 2 and all(isinstance(row[0], datetime) for row in rows)
        [export] = _exports(bot)
        assert export.format == "xlsx" and export.rows == 2 and "intent=no_answer" in export.filters


@pytest.mark.parametrize("user", [CUSTOMER, STAFF])
async def test_customers_and_staff_are_refused(database_url: str, user: int) -> None:
    """A customer or a staff member asking for /logs or /report gets a refusal, no file, and nothing is exported."""
    async with running_bot(database_url, roles=ROLES) as bot:
        _seed(bot)
        bot.fake.push_text(user, f"/logs {WEEK}")
        bot.fake.push_text(user, "/report")
        sent = await bot.fake.wait_for("sendMessage", 2, chat_id=user)
        assert all("仅限管理人员" in call.params["text"] for call in sent)
        await bot.fake.wait_until_drained()
        assert not bot.fake.sent("sendDocument") and not bot.fake.sent("sendMediaGroup")
        assert _exports(bot) == []


async def test_manager_gets_report_charts_and_summary(database_url: str) -> None:
    """/report: seven valid, non-empty PNG charts in one album, then a summary with the week's numbers."""
    async with running_bot(database_url, roles=ROLES) as bot:
        _seed(bot)
        bot.fake.push_text(MANAGER, f"/report {WEEK}")
        [album] = await bot.fake.wait_for("sendMediaGroup", chat_id=MANAGER, timeout=30)
        photos = list(album.files.values())
        assert len(photos) == 7 == len(album.params["media"])
        assert album.params["media"][0]["caption"] == f"客服报表 Report {WEEK}"
        for photo in photos:
            assert photo.content.startswith(PNG_SIGNATURE) and len(photo.content) > 10_000
            height, width, _channels = matplotlib.image.imread(io.BytesIO(photo.content), format="png").shape
            assert width >= 1200 and height >= 600
        summaries = await bot.fake.wait_for("sendMessage", 1, chat_id=MANAGER)
        summary = summaries[-1].params["text"]
        assert "客服报表" in summary and "Customer messages: 6" in summary and "Complaints: 2" in summary
        [export] = _exports(bot)
        assert (export.what, export.format, export.filters, export.user_id) == ("report", "png", WEEK, MANAGER)


async def test_empty_period_report_is_sent_not_crashed(database_url: str) -> None:
    """A period with no data still yields the charts (saying so) and a summary."""
    async with running_bot(database_url, roles=ROLES) as bot:
        bot.fake.push_text(MANAGER, "/report 2025-01")
        [album] = await bot.fake.wait_for("sendMediaGroup", chat_id=MANAGER, timeout=30)
        assert len(album.files) == 7
        [summary] = await bot.fake.wait_for("sendMessage", chat_id=MANAGER)
        assert "No customer messages" in summary.params["text"]


async def test_bad_filter_and_group_chat_get_clear_answers(database_url: str) -> None:
    """An unknown filter or period answers with the usage; a manager in the staff group is sent to a private chat."""
    async with running_bot(database_url, roles=ROLES, staff_group={"chat_id": GROUP}) as bot:
        bot.fake.push_text(MANAGER, "/logs 7d colour=red")
        bot.fake.push_text(MANAGER, "/logs last-tuesday")
        bot.fake.push_text(MANAGER, "/logs 7d", chat_id=GROUP, chat_type="supergroup")
        private = [html.unescape(c.params["text"]) for c in await bot.fake.wait_for("sendMessage", 2, chat_id=MANAGER)]
        assert "Unknown filter 'colour'" in private[0] and "Usage: /logs" in private[0]
        assert "unknown period 'last-tuesday'" in private[1]
        [group] = await bot.fake.wait_for("sendMessage", chat_id=GROUP)
        assert "private chat" in group.params["text"]
        assert _exports(bot) == [] and not bot.fake.sent("sendDocument")


async def test_groups_the_bot_does_not_serve_get_no_answer(database_url: str) -> None:
    """/logs and /report in a group nobody configured: no refusal posted there, as for any other message."""
    async with running_bot(database_url, roles=ROLES, staff_group={"chat_id": GROUP}) as bot:
        for user in (MANAGER, STAFF, CUSTOMER):
            bot.fake.push_text(user, "/logs 7d", chat_id=OTHER_GROUP, chat_type="supergroup")
            bot.fake.push_text(user, "/report", chat_id=OTHER_GROUP, chat_type="supergroup")
        # A private /logs after them: once it is answered, the group's commands have been handled too.
        bot.fake.push_text(MANAGER, "/logs 7d colour=red")
        await bot.fake.wait_for("sendMessage", chat_id=MANAGER)
        await bot.fake.wait_until_drained()
        assert bot.fake.sent("sendMessage", chat_id=OTHER_GROUP) == []
        assert _exports(bot) == [] and not bot.fake.sent("sendDocument") and not bot.fake.sent("sendMediaGroup")


async def test_logs_in_a_customer_topic_is_answered_in_that_topic(database_url: str) -> None:
    """A manager's /logs and a staff member's /report in a customer's topic are answered there, not in General."""
    async with running_bot(database_url, roles=ROLES, staff_group={"chat_id": GROUP}) as bot:
        bot.fake.push_text(CUSTOMER, "我要投诉，快递一个星期还没到")
        [copied] = await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        thread = copied.params["message_thread_id"]
        bot.fake.push_text(MANAGER, "/logs 7d", chat_id=GROUP, chat_type="supergroup", message_thread_id=thread)
        bot.fake.push_text(STAFF, "/report", chat_id=GROUP, chat_type="supergroup", message_thread_id=thread)

        def answers() -> list[ApiCall]:
            calls = bot.fake.sent("sendMessage", chat_id=GROUP)
            return [call for call in calls if any(word in call.params["text"] for word in ("仅限管理", "private chat"))]

        await eventually(lambda: len(answers()) == 2)
        assert [call.params.get("message_thread_id") for call in answers()] == [thread, thread]
        assert _exports(bot) == []


async def test_file_over_the_upload_limit_is_zipped_and_split(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a tiny upload limit the CSV arrives as numbered zip parts that join back into the same rows."""
    monkeypatch.setattr(handlers.manager, "upload_limit", 700)
    async with running_bot(database_url, roles=ROLES) as bot:
        _seed(bot)
        bot.fake.push_text(MANAGER, f"/logs {WEEK}")
        notes = await bot.fake.wait_for("sendMessage", 2, chat_id=MANAGER)
        assert "split into" in notes[1].params["text"]
        parts = int(notes[1].params["text"].split("split into ")[1].split()[0])
        calls = await bot.fake.wait_for("sendDocument", parts, chat_id=MANAGER, timeout=15)
        names = [call.files["document"].filename for call in calls]
        assert parts >= 2 and names == [f"logs_2026-11-04_2026-11-10.csv.zip.{n:03d}" for n in range(1, parts + 1)]
        joined = b"".join(call.files["document"].content for call in calls)
        with zipfile.ZipFile(io.BytesIO(joined)) as bundle:
            _, *rows = _csv_rows(bundle.read("logs_2026-11-04_2026-11-10.csv"))
        assert len(rows) == 11
