"""Opening the store: engine, sessions and schema upgrades at start-up."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from crm_store.leases import LEASE_SPACE, lock_key

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision (tests/test_store.py checks it is alembic's head). A store already there
# starts without importing alembic, which costs about 0.15 s.
HEAD_REVISION = "0010"
# The database is unreachable or locked: worth waiting for, unlike a bug (which must not be spooled forever).
STORE_DOWN = (OperationalError, InterfaceError, PoolTimeout)
log = logging.getLogger(__name__)


class Store:
    """The database behind the desk: one engine and a session factory, built once at start-up."""

    def __init__(self, url: str, *, echo: bool = False, lock_timeout: float = 5.0) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, lock_timeout=lock_timeout)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        upgrade_schema(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()


def make_engine(url: str, *, echo: bool = False, lock_timeout: float = 5.0) -> Engine:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    is_sqlite = url.startswith("sqlite")
    # A server connection can go stale between messages; a local SQLite file cannot.
    # A server that does not answer must fail fast, so the contact is spooled rather than the customer kept waiting.
    connect_args = {"timeout": lock_timeout} if is_sqlite else {"connect_timeout": 5}
    engine = create_engine(url, echo=echo, pool_pre_ping=not is_sqlite, connect_args=connect_args)
    if is_sqlite:
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers run beside the writer; the lock timeout (sqlite3 `timeout`) rides out short locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # The sqlite3 module's own transaction handling skips DDL and breaks SAVEPOINT; take it over
    # (the SQLAlchemy documentation's recipe), so migrations and nested transactions are atomic.
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection) -> None:  # type: ignore[no-untyped-def]
    connection.exec_driver_sql("BEGIN")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_at_head(engine: Engine) -> bool:
    """Whether the store's schema is already at the newest migration (False for a new or older store)."""
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except (OperationalError, ProgrammingError):  # no such table yet; an unreachable store fails in the upgrade
        return False
    return stored == [HEAD_REVISION]


def upgrade_schema(engine: Engine) -> None:
    if schema_at_head(engine):
        return
    from alembic import command

    with _one_upgrade_at_a_time(engine):
        command.upgrade(alembic_config(engine), "head")


@contextmanager
def _one_upgrade_at_a_time(engine: Engine) -> Iterator[None]:
    """Workers starting together would each create the schema: one migrates, the others wait and find it done.

    SQLite needs nothing: it serves one process (the lease refuses a second).
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    key = {"space": LEASE_SPACE, "key": lock_key("schema upgrade")}
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:space, :key)"), key)
        holder.commit()
        try:
            yield
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:space, :key)"), key)
            holder.commit()
