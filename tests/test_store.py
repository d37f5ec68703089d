"""The CRM store on SQLite and PostgreSQL: schema by migrations, customers, contacts, unique updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from crm_store import (
    Actor,
    Base,
    Contact,
    ContentKind,
    Direction,
    Store,
    find_or_create_customer,
    recent_contacts,
    record_contact,
    update_already_recorded,
)
from crm_store.search import modelled

NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


def _customer(session, external_id="42", name="张三"):
    return find_or_create_customer(
        session,
        channel="telegram",
        external_id=external_id,
        display_name=name,
        username=None,
        language="zh-hans",
        now=NOW,
    )


def test_migrations_create_every_table_and_are_idempotent(store: Store) -> None:
    """Start-up upgrades an empty database, and running the upgrade again changes nothing."""
    store.upgrade()
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"customers", "contacts", "tickets", "ticket_events", "customer_tags", "alembic_version"} <= tables
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("select version_num from alembic_version")).scalar() is not None


def test_migrations_match_the_models(store: Store) -> None:
    """A model change without its migration would only show on a customer's upgraded database."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": modelled})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_customer_is_created_once_and_profile_refreshed(store: Store) -> None:
    """The same channel identity maps to one customer; a later contact updates name and last contact."""
    with store.transaction() as session:
        first = _customer(session)
    with store.transaction() as session:
        later = find_or_create_customer(
            session,
            channel="telegram",
            external_id="42",
            display_name="张三丰",
            username="zsf",
            language=None,
            now=NOW + timedelta(hours=1),
        )
        assert later.id == first.id
        assert later.display_name == "张三丰" and later.username == "zsf" and later.language == "zh-hans"
        assert later.first_contact_at == NOW and later.last_contact_at == NOW + timedelta(hours=1)


def test_contact_round_trips_every_field_with_aware_utc_times(store: Store) -> None:
    """A moment of truth keeps who, when, what, which entry, how sure and how long, with UTC times."""
    with store.transaction() as session:
        customer = _customer(session)
        asked = record_contact(
            session,
            customer,
            at=NOW,
            direction=Direction.INBOUND,
            actor=Actor.CUSTOMER,
            kind=ContentKind.TEXT,
            text="怎么退货",
            update_id=1001,
            chat_id=42,
            message_id=7,
        )
        record_contact(
            session,
            customer,
            at=NOW + timedelta(seconds=1),
            direction=Direction.OUTBOUND,
            actor=Actor.BOT,
            kind=ContentKind.TEXT,
            text="退货只需三步",
            intent="answered",
            entry_id="return-how",
            score=0.91,
            tier="answer",
            wait_ms=1000,
            handling_ms=3,
            reply_to_id=asked,
        )
    with store.transaction() as session:
        contacts = recent_contacts(session, customer.id)
        assert [c.direction for c in contacts] == ["in", "out"]
        answer = contacts[1]
        assert (answer.entry_id, answer.score, answer.tier, answer.wait_ms) == ("return-how", 0.91, "answer", 1000)
        assert answer.reply_to_id == contacts[0].id
        assert answer.at == NOW + timedelta(seconds=1) and answer.at.tzinfo is not None
        assert update_already_recorded(session, 1001)
        assert not update_already_recorded(session, 1002)


def test_update_id_is_recorded_once(store: Store) -> None:
    """A second contact for the same Telegram update is skipped by the database itself."""
    with store.transaction() as session:
        customer = _customer(session)
        record_contact(
            session,
            customer,
            at=NOW,
            direction=Direction.INBOUND,
            actor=Actor.CUSTOMER,
            kind=ContentKind.TEXT,
            text="a",
            update_id=5,
        )
    with store.transaction() as session:
        customer = _customer(session)
        again = record_contact(
            session,
            customer,
            at=NOW,
            direction=Direction.INBOUND,
            actor=Actor.CUSTOMER,
            kind=ContentKind.TEXT,
            text="b",
            update_id=5,
        )
        assert again is None
    with store.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1


def test_naive_datetimes_are_refused(store: Store) -> None:
    """Times are timezone-aware UTC; a naive one is a programming error, not silently shifted."""
    with pytest.raises(sa.exc.StatementError), store.transaction() as session:
        customer = _customer(session)
        record_contact(
            session,
            customer,
            at=datetime(2026, 1, 1),
            direction=Direction.INBOUND,
            actor=Actor.CUSTOMER,
            kind=ContentKind.TEXT,
            text="x",
        )


def test_an_existing_database_with_data_upgrades_in_place(tmp_path) -> None:
    """A customer's SQLite file from the first release keeps its contacts through the upgrade."""
    from alembic import command

    from crm_store.db import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into customers (channel, external_id, display_name, first_contact_at, last_contact_at)"
                " values ('telegram', '1', 'a', '2026-01-01', '2026-01-01')"
            )
        )
        for direction, reply_to in (("in", None), ("out", 1)):
            connection.execute(
                sa.text(
                    "insert into contacts (customer_id, at, channel, direction, actor, kind, text, reply_to_id)"
                    " values (1, '2026-01-01', 'telegram', :direction, 'bot', 'text', 'hi', :reply_to)"
                ),
                {"direction": direction, "reply_to": reply_to},
            )
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("select id, reply_to_id, ticket_id from contacts order by id")).all()
        assert [tuple(row) for row in rows] == [(1, None, None), (2, 1, None)]
        assert connection.execute(sa.text("pragma foreign_keys")).scalar() == 1
    engine.dispose()


def test_the_head_revision_the_store_checks_is_alembics_head() -> None:
    """A new migration cannot be skipped at start-up: the revision the store compares with is alembic's head."""
    from alembic.script import ScriptDirectory

    from crm_store.db import HEAD_REVISION, MIGRATIONS, alembic_config, make_engine

    engine = make_engine("sqlite://")
    config = alembic_config(engine)
    assert str(MIGRATIONS) == config.get_main_option("script_location")
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]
    engine.dispose()


def test_a_store_at_head_starts_without_migrating_and_an_older_one_is_upgraded(tmp_path, monkeypatch) -> None:
    """Start-up runs the migrations only when the stored revision is behind (or there is no schema yet)."""
    from alembic import command

    from crm_store import Store
    from crm_store.db import HEAD_REVISION, alembic_config

    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    old = Store(url)
    command.upgrade(alembic_config(old.engine), "0001")
    old.upgrade()
    with old.engine.connect() as connection:
        assert connection.execute(sa.text("select version_num from alembic_version")).scalar() == HEAD_REVISION
    old.close()

    def refuse(*_args: object) -> None:
        raise AssertionError("migrated a store already at head")

    monkeypatch.setattr(command, "upgrade", refuse)
    again = Store(url)
    again.upgrade()
    again.close()
