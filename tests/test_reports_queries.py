"""Report metrics and the log query against a small, known history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crm_store import Store
from crm_store.models import Contact, Customer, CustomerTag, Tag, TagKind, TagSource, Ticket
from reports.complaints import deadline_state
from reports.filters import parse_log_args
from reports.logs import iter_log_rows
from reports.metrics import collect_report, normalise_question
from reports.periods import parse_period
from reports.summary import summary_text

ZONE = ZoneInfo("Asia/Shanghai")
# Noon in Shanghai on 2026-11-10; the seeded week is 2026-11-04..2026-11-10.
NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
TODAY = date(2026, 11, 10)


def seed_history(session: Session, now: datetime = NOW) -> dict[str, int]:
    """A week of a small shop: two customers, bot answers, no-answers, a staff reply, two complaints, tags.

    Returns the expected counts the tests (and the end-to-end test) check against.
    """
    alice = Customer(channel="telegram", external_id="1001", display_name="王芳", username="wangfang",
                     first_contact_at=now - timedelta(days=30), last_contact_at=now - timedelta(hours=2))  # fmt: skip
    bob = Customer(channel="telegram", external_id="1002", display_name="Bob", username=None,
                   first_contact_at=now - timedelta(days=3), last_contact_at=now - timedelta(days=1))  # fmt: skip
    session.add_all([alice, bob])
    session.flush()
    late = Ticket(number="T000001", customer_id=alice.id, status="resolved", cause="late_delivery", priority="high",
                  opened_at=now - timedelta(days=2), due_at=now - timedelta(days=2) + timedelta(hours=12),
                  first_response_at=now - timedelta(days=2) + timedelta(minutes=15),
                  resolved_at=now - timedelta(days=2) + timedelta(hours=5), satisfaction=2,
                  rated_at=now - timedelta(days=1))  # fmt: skip
    rude = Ticket(number="T000002", customer_id=bob.id, status="open", cause="not_enough_attention", priority="normal",
                  opened_at=now - timedelta(days=1), due_at=now - timedelta(hours=1),
                  breached_at=now - timedelta(hours=1))  # fmt: skip
    session.add_all([late, rude])
    session.flush()
    at_risk = Tag(name="at_risk", kind=TagKind.RISK)
    vip = Tag(name="VIP", kind=TagKind.VALUE)
    session.add_all([at_risk, vip])
    session.flush()
    session.add_all([
        CustomerTag(customer_id=alice.id, tag_id=at_risk.id, source=TagSource.RULE, set_at=now),
        CustomerTag(customer_id=alice.id, tag_id=vip.id, source=TagSource.CONFIG, set_at=now),
    ])  # fmt: skip

    def contact(customer: Customer, hours_ago: float, actor: str, text: str, intent: str | None = None,
                entry: str | None = None, ticket: Ticket | None = None, staff: str | None = None) -> None:  # fmt: skip
        session.add(Contact(
            customer_id=customer.id, at=now - timedelta(hours=hours_ago), channel="telegram",
            direction="in" if actor == "customer" else "out", actor=actor, kind="text", text=text, intent=intent,
            entry_id=entry, score=0.9 if entry else None, wait_ms=1200 if actor == "bot" else None,
            handling_ms=40 if actor == "bot" else None, ticket_id=ticket.id if ticket else None, staff_name=staff,
        ))  # fmt: skip

    contact(alice, 50, "customer", "怎么退货", "answered", "return-how")
    contact(alice, 50, "bot", "在「我的订单」中申请售后…", "answered", "return-how")
    contact(bob, 26, "customer", "怎么退货？", "answered", "return-how")
    contact(bob, 26, "bot", "在「我的订单」中申请售后…", "answered", "return-how")
    contact(alice, 49, "customer", "能寄到火星吗？", "no_answer")
    contact(alice, 49, "bot", "抱歉，我没找到答案。", "no_answer")
    contact(bob, 25, "customer", "能寄到 火星吗", "no_answer")
    contact(bob, 25, "bot", "抱歉，我没找到答案。", "no_answer")
    contact(alice, 48, "customer", "快递还没到，我要投诉", "complaint", ticket=late)
    contact(alice, 47.7, "staff", "非常抱歉，马上为您查询", ticket=late, staff="李客服")
    contact(bob, 24, "customer", '=HYPERLINK("x") 态度太差', "complaint", ticket=rude)
    # Outside the week: must never be counted or exported.
    contact(alice, 24 * 10, "customer", "上个月的问题", "no_answer")
    return {"contacts": 11, "customer": 6, "bot": 4, "staff": 1, "no_answer_in": 2, "alice": 6}


def _seeded(store: Store) -> dict[str, int]:
    with store.transaction() as session:
        return seed_history(session)


def test_report_metrics_count_the_seeded_week(store: Store) -> None:
    """Every metric of a 7-day report matches the seeded history; the contact from 10 days ago is left out."""
    _seeded(store)
    period = parse_period("7d", ZONE, today=TODAY)
    with store.sessions() as session:
        data = collect_report(session, period, now=NOW, entry_title={"return-how": "怎么退货？"}.get)
    assert [d.day for d in data.days] == period.days() and len(data.days) == 7
    assert (data.customer_messages, data.bot_replies, data.staff_replies) == (6, 4, 1)
    assert data.outcomes == {"bot": 2, "suggested": 0, "no_answer": 2, "staff": 2}
    assert data.bot_answer_share == 2 / 6
    assert data.top_questions == [("怎么退货？ (return-how)", 2)]
    assert data.unanswered == [("能寄到火星吗", 2)]
    assert data.by_cause == [("交货不准时 late delivery", 1), ("照顾不周 not enough attention", 1)]
    assert dict(data.by_status) == {"resolved": 1, "open": 1}
    assert data.deadlines == {"met": 1, "missed": 1, "pending": 0}
    assert data.first_response.count == 1 and data.first_response.median == 15
    assert data.resolution.median == 300
    assert data.satisfaction[2] == 1 and data.mean_satisfaction == 2
    assert data.at_risk_total == 1 and data.at_risk[0].name == "王芳" and data.at_risk[0].open_tickets == 0


def test_empty_period_gives_zeros_not_errors(store: Store) -> None:
    """A period with nothing in it: every day present with zeros, no share, no durations."""
    period = parse_period("2026-01-01..2026-01-03", ZONE)
    with store.sessions() as session:
        data = collect_report(session, period, now=NOW)
    assert len(data.days) == 3 and data.customer_messages == 0
    assert data.bot_answer_share is None and data.mean_satisfaction is None
    assert data.first_response.median is None and data.at_risk_total == 0


def test_normalised_questions_fold_width_case_and_punctuation() -> None:
    """Full-width, case, spaces and trailing question marks do not split one question into several."""
    assert normalise_question("  Ｗｈｅｒｅ is   my ORDER？？ ") == "where is my order"
    assert normalise_question("能寄到火星吗？") == normalise_question("能寄到火星吗") == "能寄到火星吗"
    assert normalise_question("能寄到 火星吗") == "能寄到火星吗"
    assert normalise_question(None) == ""


def _rows(store: Store, *args: str) -> list[tuple]:
    log_filter = parse_log_args(list(args), ZONE, today=TODAY)
    with store.sessions() as session:
        return list(iter_log_rows(session, log_filter, ZONE))


def test_log_rows_follow_the_filters(store: Store) -> None:
    """Period, customer, tag, intent, ticket, actor and direction filters each select exactly the seeded rows."""
    expected = _seeded(store)
    everything = _rows(store, "7d")
    assert len(everything) == expected["contacts"]
    assert [row[0] for row in everything] == sorted(row[0] for row in everything)
    assert len(_rows(store, "30d")) == expected["contacts"] + 1
    assert len(_rows(store, "7d", "customer=@wangfang")) == expected["alice"]
    assert len(_rows(store, "7d", "customer=1002")) == expected["contacts"] - expected["alice"]
    assert len(_rows(store, "7d", "tag=vip")) == expected["alice"]
    assert len(_rows(store, "7d", "tag=at_risk,VIP")) == expected["alice"]
    assert len(_rows(store, "7d", "intent=no_answer", "actor=customer")) == expected["no_answer_in"]
    assert len(_rows(store, "7d", "ticket=T000001")) == 2
    assert len(_rows(store, "7d", "actor=staff")) == 1
    assert len(_rows(store, "7d", "direction=out")) == expected["bot"] + expected["staff"]
    assert _rows(store, "7d", "tag=nobody") == []


def test_log_row_columns_read_like_a_manager_expects(store: Store) -> None:
    """Local time, customer name with username, who answered, seconds, ticket number."""
    _seeded(store)
    [staff_row] = _rows(store, "7d", "actor=staff")
    # 47.7 h before 12:00 Shanghai on the 10th = 2026-11-08 12:18 local.
    assert staff_row[0] == datetime(2026, 11, 8, 12, 18)
    assert staff_row[1:3] == ("王芳 (@wangfang)", "1001")
    assert staff_row[4:7] == ("out", "staff", "李客服") and staff_row[-1] == "T000001"
    [bot_row, *_] = _rows(store, "7d", "actor=bot")
    assert bot_row[6] == "机器人" and bot_row[9] == "return-how" and bot_row[10] == 0.9
    assert bot_row[11] == 1.2 and bot_row[12] == 0.04


def test_summary_reads_the_numbers_and_shortens_pasted_paragraphs(store: Store) -> None:
    """The summary states the week's counts; a very long unanswered question is cut, not pasted whole."""
    _seeded(store)
    with store.transaction() as session:
        alice = session.scalars(sa.select(Customer).where(Customer.external_id == "1001")).one()
        session.add(Contact(customer_id=alice.id, at=NOW - timedelta(hours=1), channel="telegram", direction="in",
                            actor="customer", kind="text", text="长" * 500, intent="no_answer"))  # fmt: skip
    period = parse_period("7d", ZONE, today=TODAY)
    with store.sessions() as session:
        text = summary_text(collect_report(session, period, now=NOW), ZONE)
    assert "Customer messages: 7" in text and "Complaints: 2" in text and "met 1 · 超时 missed 1" in text
    assert "Satisfaction: 2.00 / 5 (n=1)" in text and "王芳 (@wangfang)" in text
    assert "长" * 59 + "…" in text and "长" * 60 not in text
    assert len(text) < 1500


def test_deadline_states() -> None:
    """Solved in time is met; solved late, flagged, or overdue and open is missed; open in time is pending."""
    due = NOW
    early, late = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    assert deadline_state(due, early, None, late) == "met"
    assert deadline_state(due, late, None, late) == "missed"
    assert deadline_state(due, early, early, late) == "missed"
    assert deadline_state(due, None, None, late) == "missed"
    assert deadline_state(due, None, None, early) == "pending"
