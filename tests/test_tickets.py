"""Ticket rules and transitions in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from crm_store import Store, find_or_create_customer, tickets
from crm_store import tags as tag_store
from crm_store.models import Actor, Priority, TagSource, Ticket
from crm_store.tickets import TicketError, Who
from desk.complaints import DeadlineRules, classify_cause, due_time, is_complaint, priority_for, promised_hours
from knowledge.text import normalise

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CAUSES = {
    "late_delivery": ["还没到", "快递", "late"],
    "poor_quality": ["质量", "坏了", "broken"],
}
RULES = DeadlineRules(home_regions=("杭州",), home_hours=12, other_hours=24, tag_hours={"VIP": 4})


def test_complaints_are_recognised_by_configured_words_in_any_case_width_and_script() -> None:
    lexicon = ["投诉", "差评", "Complaint"]

    def complaint(text: str) -> bool:
        return is_complaint(normalise(text), lexicon)  # the message's one normalisation, as the desk does

    assert complaint("我要投诉你们")
    assert complaint("I want to file a COMPLAINT")
    assert complaint("我要投訴")  # Traditional
    assert complaint("ｃｏｍｐｌａｉｎｔ！")  # full-width
    assert complaint("給個差評")
    assert not complaint("怎么退货")
    assert not complaint("")


def test_cause_is_the_category_with_most_keyword_hits_else_other() -> None:
    assert classify_cause("快递一个星期还没到", CAUSES) == "late_delivery"
    assert classify_cause("收到就坏了，质量太差，快递也慢", CAUSES) == "poor_quality"
    assert classify_cause("the parcel is late", CAUSES) == "late_delivery"
    assert classify_cause("你们太差了", CAUSES) == "other"


def test_deadline_follows_region_and_the_shortest_tag_rule() -> None:
    assert promised_hours(RULES, "浙江杭州", []) == 12
    assert promised_hours(RULES, "上海", []) == 24
    assert promised_hours(RULES, None, []) == 24
    assert promised_hours(replace_unknown_home(RULES), None, []) == 12
    assert promised_hours(RULES, "上海", ["VIP", "new"]) == 4
    assert due_time(RULES, NOW, "杭州", []) == NOW + timedelta(hours=12)
    assert priority_for(["VIP"], ["VIP"]) == Priority.HIGH and priority_for(["new"], ["VIP"]) == Priority.NORMAL


def replace_unknown_home(rules: DeadlineRules) -> DeadlineRules:
    from dataclasses import replace

    return replace(rules, unknown_region_is_home=True)


def _ticket(store: Store) -> int:
    with store.transaction() as session:
        customer = find_or_create_customer(
            session, channel="telegram", external_id="42", display_name="王芳", username=None, language="zh", now=NOW
        )
        ticket = tickets.open_ticket(
            session,
            customer_id=customer.id,
            cause="late_delivery",
            priority=Priority.NORMAL,
            region=None,
            summary="还没到",
            opened_at=NOW,
            due_at=NOW + timedelta(hours=24),
            who=Who(Actor.CUSTOMER),
        )
        return ticket.id


def test_transitions_are_guarded_and_audited(store: Store) -> None:
    ticket_id = _ticket(store)
    alice = Who(Actor.STAFF, 1, "Alice")
    with store.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        assert ticket.number == f"T{ticket_id:06d}"
        assert tickets.take(session, ticket, alice, NOW)
        tickets.resolve(session, ticket, alice, NOW + timedelta(hours=1), "refunded")
        with pytest.raises(TicketError):
            tickets.resolve(session, ticket, alice, NOW, "again")
        tickets.rate(session, ticket, 5, Who(Actor.CUSTOMER), NOW + timedelta(hours=2))
        tickets.close(session, ticket, alice, NOW + timedelta(hours=2))
        tickets.reopen(session, ticket, alice, NOW + timedelta(hours=3), due_at=NOW + timedelta(hours=27))
        assert (ticket.status, ticket.assignee_user_id, ticket.satisfaction) == ("reopened", None, None)
        events = [(e.action, e.actor_name) for e in tickets.events_of(session, ticket_id)]
    assert events == [
        ("opened", None),
        ("assigned", "Alice"),
        ("resolved", "Alice"),
        ("rated", None),
        ("closed", "Alice"),
        ("reopened", "Alice"),
    ]


def test_two_staff_taking_the_same_ticket_at_once_exactly_one_wins(store: Store) -> None:
    """Two workers, two connections, one moment: the guarded UPDATE lets exactly one through.

    PostgreSQL is the backend for several workers; SQLite runs one store thread, so there the second
    take simply comes after the first.
    """
    ticket_id = _ticket(store)
    for _ in range(5):
        results = _race(store, ticket_id) if not store.is_sqlite else _one_after_another(store, ticket_id)
        assert sorted(results.values()) == [False, True]
        with store.transaction() as session:
            ticket = session.get_one(Ticket, ticket_id)
            winner = next(user for user, won in results.items() if won)
            assert ticket.assignee_user_id == winner
            assert [e.action for e in tickets.events_of(session, ticket_id)].count("assigned") == 1
        _reset(store, ticket_id)


def _take(store: Store, ticket_id: int, user_id: int, barrier: threading.Barrier | None = None) -> bool:
    with store.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        if barrier is not None:
            barrier.wait()
        return tickets.take(session, ticket, Who(Actor.STAFF, user_id, f"staff{user_id}"), NOW)


def _race(store: Store, ticket_id: int) -> dict[int, bool]:
    barrier = threading.Barrier(2)
    results: dict[int, bool] = {}

    def work(user_id: int) -> None:
        results[user_id] = _take(store, ticket_id, user_id, barrier)

    workers = [threading.Thread(target=work, args=(user_id,)) for user_id in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return results


def _one_after_another(store: Store, ticket_id: int) -> dict[int, bool]:
    return {1: _take(store, ticket_id, 1), 2: _take(store, ticket_id, 2)}


def _reset(store: Store, ticket_id: int) -> None:
    with store.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        tickets.release(session, ticket, Who(Actor.SYSTEM), NOW)
        for event in tickets.events_of(session, ticket_id):
            if event.action == "assigned":
                session.delete(event)


def test_tags_keep_their_first_setter_and_can_be_removed(store: Store) -> None:
    ticket_id = _ticket(store)
    with store.transaction() as session:
        customer_id = session.get_one(Ticket, ticket_id).customer_id
        assert tag_store.add_tag(session, customer_id, "VIP", source=TagSource.STAFF, at=NOW, user_id=7, user_name="Li")
        assert not tag_store.add_tag(session, customer_id, "VIP", source=TagSource.RULE, at=NOW)
        [tag] = tag_store.tags_of(session, customer_id)
        assert (tag.tag.name, tag.tag.kind, tag.source, tag.set_by_name) == ("VIP", "value", "staff", "Li")
        assert tag_store.remove_tag(session, customer_id, "VIP")
        assert tag_store.tag_names(session, customer_id) == set()
