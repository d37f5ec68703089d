"""The right to be forgotten, end to end: the customer asks, a manager confirms in two steps, nothing is left.

After the erasure every text column of every table, and what the staff group still shows (topic names,
messages), is scanned for the customer's phone number, address, username and name.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from console import run_console
from crm_store import Contact, ContentKind, Customer
from crm_store.dead_letters import record_dead_letter
from crm_store.models import (
    Actor,
    Base,
    CandidatePhrasing,
    Erasure,
    Export,
    OutboxMessage,
    StaffTopic,
    Tag,
    Ticket,
    TicketEvent,
)
from crm_store.privacy import Blanked
from crm_store.tickets import Who
from desk.messages import CustomerRef, Inbound
from desk.privacy import CONFIRM_SECONDS, ERASED, Offers, Preview, refusal
from desk.spool import Spool
from tests.bot_harness import RunningBot, eventually, running_bot
from tests.bot_harness import stored as _rows
from tests.bot_harness import texts_sent as _texts

GROUP = -1004321
STAFF, MANAGER, OTHER_MANAGER = 900, 901, 902
CUSTOMER = 8101
SECTIONS = {"roles": {"staff": [STAFF], "managers": [MANAGER, OTHER_MANAGER]}, "staff_group": {"chat_id": GROUP}}
NAME, USERNAME = "吴敏", "wumin"
PHONE, ADDRESS = "13800001111", "文三路88号"
NEEDLES = (PHONE, ADDRESS, USERNAME, NAME)
COMPLAINT = f"我要投诉，我的手机号是{PHONE}，快递还没到"


def _say(bot: RunningBot, text: str) -> None:
    bot.fake.push_text(CUSTOMER, text, first_name=NAME, username=USERNAME)


def _staff(bot: RunningBot, text: str, thread: int | None = None, user: int = STAFF) -> None:
    names = {STAFF: "小李", MANAGER: "王经理", OTHER_MANAGER: "赵经理"}
    bot.fake.push_text(user, text, chat_id=GROUP, message_thread_id=thread, first_name=names[user])


def _thread(bot: RunningBot) -> int:
    [thread] = bot.fake.topics[GROUP]
    return thread


def _text_values(bot: RunningBot) -> list[tuple[str, str, str]]:
    """(table, column, value) for every string value in every table of the store."""
    found = []
    with bot.desk.store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [column for column in table.columns if isinstance(column.type, sa.String)]
            for row in connection.execute(sa.select(*columns)) if columns else []:
                found += [(table.name, c.name, v) for c, v in zip(columns, row, strict=True) if isinstance(v, str)]
    return found


def _left_in_store(bot: RunningBot) -> list[tuple[str, str, str]]:
    return [(t, c, v) for t, c, v in _text_values(bot) if any(needle in v for needle in NEEDLES)]


def _left_in_group(bot: RunningBot) -> list[str]:
    """Topic names and messages (whole, with what they reply to) the staff group still shows."""
    shown = list(bot.fake.topics.get(GROUP, {}).values())
    shown += [json.dumps(m, ensure_ascii=False) for (chat, _), m in bot.fake.messages.items() if chat == GROUP]
    return [item for item in shown if any(needle in item for needle in NEEDLES)]


async def _complaint_with_history(bot: RunningBot) -> tuple[int, int]:
    """A complaint with a phone number and an address, a region, tags, a note, a link, a staff answer, an export."""
    _say(bot, COMPLAINT)
    await bot.fake.wait_for("copyMessage", chat_id=GROUP)
    thread = _thread(bot)
    _say(bot, f"地址是杭州市西湖区{ADDRESS}")
    await eventually(lambda: len(bot.fake.sent("copyMessage", chat_id=GROUP)) == 2)
    for command in ("/region 西湖区", f"/tag {NAME}专属 custom", "/tag VIP", f"/note 客户住在{ADDRESS}，电话{PHONE}"):
        _staff(bot, command, thread)
    _staff(bot, "/link delivery-area", thread)
    await eventually(lambda: _rows(bot, CandidatePhrasing))
    _staff(bot, "您好，我们马上查一下快递", thread)
    await eventually(lambda: any("马上查" in c.text for c in _rows(bot, Contact)))
    bot.fake.push_text(MANAGER, f"/logs 7d customer=@{USERNAME}", first_name="王经理")
    await bot.fake.wait_for("sendDocument", chat_id=MANAGER, timeout=15)
    assert any(f"customer=@{USERNAME}" in e.filters for e in _rows(bot, Export))
    _say(bot, "/forget")
    notice = await eventually(lambda: [t for t in _texts(bot, GROUP) if "/erase" in t])
    return int(re.search(r"/erase (\d+)", notice[0]).group(1)), thread


async def _confirm_prompt(bot: RunningBot, customer_id: int, command: str = "") -> dict:
    """The manager's /erase and the confirmation it gets (a copy: pressing the button edits the original)."""
    _staff(bot, command or f"/erase {customer_id}", user=MANAGER)
    prompts = await eventually(
        lambda: [m for (chat, _), m in bot.fake.messages.items() if chat == GROUP and "的全部数据？" in m["text"]]
    )
    return dict(prompts[-1])


async def test_two_step_erasure_leaves_nothing_in_the_store_or_the_staff_group(database_url: str, caplog) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(database_url, **SECTIONS) as bot:
        customer_id, thread = await _complaint_with_history(bot)
        assert _left_in_store(bot) and _left_in_group(bot)  # the scan does see them before
        counts = {model: len(_rows(bot, model)) for model in (Contact, Ticket, TicketEvent)}

        # Staff who are not managers cannot even ask.
        _staff(bot, f"/erase {customer_id}", user=STAFF)
        await eventually(lambda: any("只有经理" in t for t in _texts(bot, GROUP)))

        prompt = await _confirm_prompt(bot, customer_id)
        assert NAME in prompt["text"] and "已申请" in prompt["text"] and "最近联系" in prompt["text"]
        # Another manager's press does nothing: only the one who asked may confirm.
        bot.fake.push_callback(
            OTHER_MANAGER,
            prompt["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
            chat_id=GROUP,
            message_id=prompt["message_id"],
        )
        await bot.fake.wait_for("answerCallbackQuery")
        assert _rows(bot, Customer)[0].erased_at is None

        bot.fake.push_callback(
            MANAGER,
            prompt["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
            chat_id=GROUP,
            message_id=prompt["message_id"],
        )
        await eventually(lambda: any("已按您的要求删除" in t for t in _texts(bot, CUSTOMER)))
        await bot.fake.wait_for("deleteForumTopic", chat_id=GROUP)
        await eventually(lambda: not _left_in_group(bot))

        assert _left_in_store(bot) == [] and _linked_to(bot, customer_id) == []
        assert _rows(bot, Customer)[0].external_id != str(CUSTOMER)
        assert thread not in bot.fake.topics.get(GROUP, {})
        assert _rows(bot, StaffTopic) == [] and all(NAME not in tag.name for tag in _rows(bot, Tag))
        # Counts stay, so reports still add up; the open ticket is closed for reason "erased".
        assert {model: len(_rows(bot, model)) for model in counts} == {
            model: count + (1 if model is TicketEvent else 0) for model, count in counts.items()
        }
        [ticket] = _rows(bot, Ticket)
        assert ticket.status == "closed" and ticket.region is None and ticket.summary == ERASED
        assert any(e.action == "closed" and e.detail == "erased" for e in _rows(bot, TicketEvent))
        assert await bot.desk.check_deadlines() == 0
        [erasure] = _rows(bot, Erasure)
        assert erasure.confirmed_by_user_id == MANAGER and erasure.reason is None
        assert erasure.contacts_anonymised == counts[Contact]

        # The same person writing again is a new customer, copied nowhere old.
        _say(bot, "你好")
        customers = await eventually(lambda: [c for c in _rows(bot, Customer) if c.display_name == NAME])
        assert customers[0].id != customer_id
    # Customers' words never reach the application log at INFO.
    assert PHONE not in caplog.text


async def test_erasing_someone_who_did_not_ask_needs_a_reason_and_survives_a_refused_topic_deletion(
    database_url: str,
) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        _say(bot, COMPLAINT)
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        thread = _thread(bot)
        _staff(bot, "您好，我们马上查一下快递", thread)
        await eventually(lambda: any("马上查" in c.text for c in _rows(bot, Contact)))
        [customer] = _rows(bot, Customer)

        _staff(bot, f"/erase {customer.id}", user=MANAGER)
        await eventually(lambda: any("请写明原因" in t for t in _texts(bot, GROUP)))
        prompt = await _confirm_prompt(bot, customer.id, f"/erase {customer.id} 客户来电要求删除")
        assert "客户来电要求删除" in prompt["text"]
        # The bot may not delete topics in this group: the topic is renamed and emptied instead.
        bot.fake.fail_next("deleteForumTopic", error_code=400, description="Bad Request: not enough rights")
        bot.fake.push_callback(
            MANAGER,
            prompt["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
            chat_id=GROUP,
            message_id=prompt["message_id"],
        )
        await bot.fake.wait_for("editForumTopic", chat_id=GROUP)
        await eventually(lambda: not _left_in_group(bot))
        assert bot.fake.topics[GROUP][thread] == f"已删除客户 {customer.id}"
        assert len(bot.fake.sent("deleteMessages", chat_id=GROUP)) == 1  # one call, not one per message
        assert _left_in_store(bot) == []
        [erasure] = _rows(bot, Erasure)
        assert erasure.reason == "客户来电要求删除"
        assert any("我们已删除" in t for t in _texts(bot, CUSTOMER))
        # The question named the customer; what replaced it does not.
        edited = bot.fake.messages[(GROUP, prompt["message_id"])]
        assert edited["text"].startswith("🗑 已删除客户") and "reply_markup" not in edited


def test_the_spool_forgets_an_erased_customer_and_keeps_the_others(tmp_path) -> None:
    spool = Spool(tmp_path)
    when = datetime(2026, 12, 3, tzinfo=UTC)
    for external_id, text in (("8101", f"电话{PHONE}"), ("8102", "在吗"), ("8101", ADDRESS)):
        spool.append(Inbound(CustomerRef("telegram", external_id), ContentKind.TEXT, text, when))
    spool.batches()  # one file is being replayed, the next contact goes to a fresh one
    spool.append(Inbound(CustomerRef("telegram", "8101"), ContentKind.TEXT, "还有吗", when))
    assert spool.erase("telegram", "8101") == 3
    left = [inbound for batch in spool.batches() for inbound in spool.read(batch)]
    assert [(i.customer.external_id, i.text) for i in left] == [("8102", "在吗")]


async def test_mydata_sends_the_customer_their_own_copy_once_a_day(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        _say(bot, COMPLAINT)
        await bot.fake.wait_for("copyMessage", chat_id=GROUP)
        thread = _thread(bot)
        _staff(bot, "/tag VIP", thread)
        _staff(bot, "/note 内部备注：语气很冲，先安抚", thread)
        _staff(bot, "您好，我们马上查一下快递", thread)
        await eventually(lambda: any("马上查" in c.text for c in _rows(bot, Contact)))

        _say(bot, "/mydata")
        [call] = await bot.fake.wait_for("sendDocument", chat_id=CUSTOMER)
        upload = call.files["document"]
        assert upload.filename.startswith("mydata_") and upload.filename.endswith(".json")
        copy = json.loads(upload.content.decode("utf-8"))
        assert "数据副本" in copy["about"][0] and copy["profile"]["name"] == NAME
        said = [(m["from"], m["text"]) for m in copy["messages"]]
        assert ("您 you", COMPLAINT) in said and ("客服 staff", "您好，我们马上查一下快递") in said
        assert "VIP" in copy["tags"] and copy["tickets"][0]["summary"]
        assert "内部备注" not in upload.content.decode("utf-8") and "小李" not in upload.content.decode("utf-8")
        [export] = [e for e in _rows(bot, Export) if e.what == "mydata"]
        assert export.user_id == CUSTOMER and export.rows == len(copy["messages"]) and export.format == "json"

        _say(bot, "/mydata")
        refusal = await eventually(lambda: [t for t in _texts(bot, CUSTOMER) if "今天已经领取过" in t])
        tomorrow = (bot.desk.context.clock().astimezone(bot.desk.context.zone) + timedelta(days=1)).date()
        assert tomorrow.isoformat() in refusal[0]
        assert len(bot.fake.sent("sendDocument", chat_id=CUSTOMER)) == 1


async def test_the_console_writes_the_copy_to_a_file_and_says_where(desk, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    await run_console(desk, stdin=io.StringIO(f"我的电话是{PHONE}\n/mydata\n"), stdout=out)
    [written] = tmp_path.glob("mydata_*.json")
    assert str(written) in out.getvalue()
    said = [m["text"] for m in json.loads(written.read_text(encoding="utf-8"))["messages"]]
    assert f"我的电话是{PHONE}" in said


def _history(store, now: datetime) -> int:
    """One customer with an old and a recent message, an old settled ticket, an old open one, old and new notes."""
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    with store.transaction() as session:
        customer = Customer(
            channel="telegram", external_id="8101", display_name=NAME, first_contact_at=old, last_contact_at=recent
        )
        session.add(customer)
        session.flush()
        for at, text in ((old, f"电话{PHONE}"), (recent, "快递到了吗")):
            session.add(
                Contact(
                    customer_id=customer.id,
                    at=at,
                    channel="telegram",
                    direction="in",
                    actor="customer",
                    kind="text",
                    text=text,
                )
            )
        settled = Ticket(
            customer_id=customer.id,
            status="closed",
            cause="late_delivery",
            priority="normal",
            summary=f"电话{PHONE}",
            resolution="已补发",
            opened_at=old,
            due_at=old,
            closed_at=old,
        )
        working = Ticket(
            customer_id=customer.id,
            status="open",
            cause="late_delivery",
            priority="normal",
            summary="还在处理的投诉",
            opened_at=old,
            due_at=now,
        )
        session.add_all([settled, working])
        session.flush()
        for at, text in ((old, f"住{ADDRESS}"), (recent, "今天再联系")):
            session.add(TicketEvent(ticket_id=working.id, at=at, action="note", actor="staff", detail=text))
        # Copies of words elsewhere: an unreadable update, a message sent long ago and one still owed.
        record_dead_letter(session, {"update_id": 1, "message": {"text": PHONE}}, "unreadable", old)
        for state in ("sent", "pending"):
            session.add(
                OutboxMessage(
                    created_at=old,
                    lane="customer",
                    kind="reply",
                    payload=f'{{"text": "{PHONE}"}}',
                    state=state,
                    attempts=1,
                )
            )
        return customer.id


async def test_retention_blanks_exactly_the_texts_older_than_the_limit(desk) -> None:
    now = desk.context.clock()
    _history(desk.store, now)
    assert await desk.forget_old_texts(0) is None  # off: nothing is touched
    blanked = await desk.forget_old_texts(30)
    assert blanked == Blanked(contacts=1, tickets=1, events=1, dead_letters=1, outbox=1)
    with desk.store.transaction() as session:
        assert [c.text for c in session.scalars(sa.select(Contact).order_by(Contact.at))] == ["", "快递到了吗"]
        tickets = session.scalars(sa.select(Ticket).order_by(Ticket.id)).all()
        assert [(t.summary, t.resolution) for t in tickets] == [("", None), ("还在处理的投诉", None)]
        notes = session.scalars(sa.select(TicketEvent).order_by(TicketEvent.at)).all()
        assert [n.detail for n in notes] == [None, "今天再联系"]
        assert [row.state for row in session.scalars(sa.select(OutboxMessage))] == ["pending"]  # still owed: kept
    assert (await desk.forget_old_texts(30)).contacts == 0  # done once, nothing left to do the next day


async def test_the_retention_job_runs_daily_only_when_a_limit_is_set(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        assert bot.application.job_queue.get_jobs_by_name("retention") == ()
    async with running_bot(database_url, privacy={"keep_texts_days": 30}, **SECTIONS) as bot:
        [job] = bot.application.job_queue.get_jobs_by_name("retention")
        assert job.trigger.interval.total_seconds() == 24 * 3600


def _linked_to(bot: RunningBot, customer_id: int) -> list[tuple[str, object]]:
    """Rows that still tie the erased customer to a Telegram chat."""
    with bot.desk.store.transaction() as session:
        rows = session.execute(sa.select(OutboxMessage.chat_id).where(OutboxMessage.customer_id == customer_id))
        found = [("outbox", chat_id) for (chat_id,) in rows if chat_id is not None]
        contacts = sa.select(Contact.chat_id).where(Contact.customer_id == customer_id, Contact.chat_id.is_not(None))
        return found + [("contacts", chat_id) for chat_id in session.scalars(contacts)]


async def test_an_erasure_waits_for_the_staff_post_in_hand_and_drops_what_waited_behind_it(database_url: str) -> None:
    async with running_bot(database_url, **SECTIONS) as bot:
        # Telegram holds the staff lane back: the first complaint's posts are in hand for a while.
        bot.fake.fail_next("createForumTopic", error_code=429, description="Too Many Requests", retry_after=2)
        _say(bot, COMPLAINT)
        await eventually(lambda: bot.fake.sent("createForumTopic", include_failed=True))
        _say(bot, f"地址是{ADDRESS}")  # its copy for staff waits behind, in the sender's memory
        await eventually(lambda: any(ADDRESS in c.text for c in _rows(bot, Contact)))
        [customer] = _rows(bot, Customer)
        contacts = len(_rows(bot, Contact))
        assert await bot.desk.erase(customer.id, Who(Actor.STAFF, MANAGER, "王经理"), "测试") == contacts
        await bot.fake.wait_for("deleteForumTopic", chat_id=GROUP)
        await asyncio.sleep(0.5)  # time enough for anything still queued to go out
        assert _left_in_group(bot) == [] and bot.fake.topics.get(GROUP, {}) == {}
        assert _rows(bot, StaffTopic) == [] and _left_in_store(bot) == []


def test_a_confirm_button_is_for_the_asking_manager_once_and_only_for_a_few_minutes() -> None:
    offers, now = Offers(), datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    token = offers.make(7, MANAGER, "", now)
    assert offers.take(token, OTHER_MANAGER, now) == "只有发起删除的经理可以确认。"
    assert offers.take(token, MANAGER, now).customer_id == 7
    assert "过期" in offers.take(token, MANAGER, now)  # used up
    late = offers.make(7, MANAGER, "", now)
    assert "过期" in offers.take(late, MANAGER, now + timedelta(seconds=CONFIRM_SECONDS))
    kept = offers.make(7, MANAGER, "", now)
    assert not offers.cancel(kept, OTHER_MANAGER) and offers.cancel(kept, MANAGER)


def test_erase_without_a_request_asks_for_a_reason() -> None:
    at = datetime(2026, 12, 3, tzinfo=UTC)
    asked, unasked = Preview(7, NAME, at, True, False), Preview(7, NAME, at, False, False)
    assert refusal(None, "7", "") == "没有编号为 7 的客户。"
    assert refusal(asked, "7", "") is None and refusal(unasked, "7", "来电要求") is None
    assert "请写明原因" in refusal(unasked, "7", "")
    assert "已经删除" in refusal(Preview(7, "", at, False, True), "7", "来电要求")
