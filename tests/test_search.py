"""Search over contacts through the database's own text index, on SQLite (FTS5) and PostgreSQL (pg_trgm).

Chinese phrases and short words, English words in any case, several words at once, a period, LIKE's
wildcards taken literally, and erasure: what an erased customer wrote is no longer found.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crm_store import Actor, ContentKind, Direction, Store, find_or_create_customer, record_contact
from crm_store.search import search_contacts
from crm_store.tickets import Who
from desk.privacy import erase_and_tell
from desk.search import search_text, snippet, topic_link

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
TEXTS = [
    "我上周买的蓝牙耳机什么时候发货",  # oldest
    "退款还没到账，订单 100%_ok",
    "The Headphones arrived broken",
    "耳机坏了，我要退货",
    "ok thanks",  # newest
]


def _fill(store: Store) -> list[int]:
    ids = []
    with store.transaction() as session:
        customer = find_or_create_customer(
            session, channel="telegram", external_id="5551", display_name="王芳", username=None, language="zh", now=NOW
        )
        for index, text in enumerate(TEXTS):  # recorded as they happened, oldest first
            at = NOW - timedelta(days=(len(TEXTS) - 1 - index) * 3)
            contact_id = record_contact(
                session, customer, at=at, direction=Direction.INBOUND, actor=Actor.CUSTOMER, kind=ContentKind.TEXT,
                text=text,
            )  # fmt: skip
            ids.append(contact_id)
    return ids


def _found(store: Store, *terms: str, **window: datetime) -> list[str]:
    with store.transaction() as session:
        return [hit.text for hit in search_contacts(session, list(terms), **window)]


def test_chinese_phrases_short_words_and_english_in_any_case_newest_first(store: Store) -> None:
    _fill(store)
    assert _found(store, "蓝牙耳机") == [TEXTS[0]]
    assert _found(store, "耳机") == [TEXTS[3], TEXTS[0]]  # two characters: fewer than a trigram
    assert _found(store, "退") == [TEXTS[3], TEXTS[1]]
    assert _found(store, "headphones") == _found(store, "HEADPHONES") == [TEXTS[2]]
    assert _found(store, "ok") == [TEXTS[4], TEXTS[2], TEXTS[1]]  # substrings: "broken" too
    assert _found(store, "耳机", "退货") == [TEXTS[3]]  # every word must be there
    assert _found(store, "还没到账", "订单") == [TEXTS[1]]
    assert _found(store, "没有这句话") == []


def test_wildcards_and_quotes_are_plain_characters(store: Store) -> None:
    _fill(store)
    assert _found(store, "%") == [TEXTS[1]]
    assert _found(store, "0%_") == [TEXTS[1]]
    assert _found(store, '"ok') == []
    assert _found(store, "_") == [TEXTS[1]]


def test_a_period_limits_the_search(store: Store) -> None:
    _fill(store)
    assert _found(store, "耳机", since=NOW - timedelta(days=5)) == [TEXTS[3]]
    assert _found(store, "耳机", until=NOW - timedelta(days=5)) == [TEXTS[0]]


def test_an_erased_customer_is_no_longer_found(store: Store) -> None:
    """Erasure blanks the texts; the index follows the rows, so it no longer finds them."""
    _fill(store)
    with store.transaction() as session:
        customer_id = session.scalar(sa.text("SELECT id FROM customers"))
        erase_and_tell(session, customer_id, Who(Actor.STAFF, 950, "经理"), NOW, "test", staff=False)
    for term in ("蓝牙耳机", "耳机", "headphones", "ok"):
        assert _found(store, term) == [], term
    if store.is_sqlite:
        with store.engine.begin() as connection:  # the FTS index agrees with the table
            connection.exec_driver_sql("INSERT INTO contacts_search(contacts_search) VALUES ('integrity-check')")


def test_the_staff_command_reads_a_period_and_links_the_topic(store: Store, desk) -> None:  # type: ignore[no-untyped-def]
    _fill(store)
    with store.transaction() as session:
        text = search_text(session, desk.context, "耳机 3000d")
    assert "2 条" in text and "王芳" in text and "（" in text
    with store.transaction() as session:
        assert "没有找到" in search_text(session, desk.context, "耳机 2020-01")
    assert topic_link(-1001234, 7, 42) == "https://t.me/c/1234/7/42"
    assert topic_link(-1001234, None, 42) is None
    assert snippet("a" * 100 + "耳机" + "b" * 100, "耳机").startswith("…")
