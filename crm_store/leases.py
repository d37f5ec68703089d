"""The deployment's once-only work (sending the outbox, the deadline sweep, retention) has one holder.

Several identical worker processes may serve one PostgreSQL database. Each handles the updates it is
given and writes what it owes into the outbox; one of them, the holder of the lease, sends it and runs
the sweeps. The lease is a PostgreSQL session-level advisory lock held on a connection of its own: the
server lets go of it when that connection ends, so when the holder dies another worker takes over at
its next try, without a table to clean up or a clock to trust.

SQLite serves one process: the lease is an exclusive lock on a file beside the database, and a second
process is refused at start-up with a message saying so.

A customer's contacts are decided one at a time across workers (`serialise_customer`): two first
messages arriving at two workers at once make one customer, one ticket and one topic.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
# The first key of PostgreSQL's two-key advisory locks: ours, apart from anything else on the server.
LEASE_SPACE = 0x0DE5
CUSTOMER_SPACE = 0x0DE6


class StoreInUse(RuntimeError):
    """A second process on a SQLite database: the message says what to do instead."""


def lock_key(name: str) -> int:
    """A stable signed 32-bit key for `name` (Python's own hash() differs between processes)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big", signed=True)


def serialise_customer(session: Session, key: str) -> None:
    """Hold this customer until the transaction ends, so workers decide their contacts one at a time.

    SQLite needs nothing: its writers already take turns (each transaction begins IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": CUSTOMER_SPACE, "key": lock_key(key)}
        )


class Lease:
    """`acquire()` tries without waiting; `still_held()` notices a lost connection; `release()` lets go."""

    def __init__(self, engine: Engine, name: str = "desk") -> None:
        self._engine = engine
        self._name = name
        self._key: int | None = None
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None
        self.sqlite_path = _sqlite_file(engine)

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None or self._in_memory

    @property
    def _in_memory(self) -> bool:
        return self._engine.dialect.name == "sqlite" and self.sqlite_path is None

    def acquire(self) -> bool:
        if self.held:
            return True
        if self._engine.dialect.name == "sqlite":
            return self._lock_file()
        connection = self._engine.connect()
        try:
            if self._key is None:
                # Advisory locks are per database server-wide: deployments in other schemas have their own.
                where = connection.execute(text("SELECT current_database(), current_schema()")).one()
                self._key = lock_key(f"{self._name}:{where[0]}:{where[1]}")
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:space, :key)"), {"space": LEASE_SPACE, "key": self._key}
            ).scalar()
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def still_held(self) -> bool:
        """False once the lock's connection is gone (the server has let the lock go with it)."""
        if self._connection is None:
            return self.held
        try:
            self._connection.execute(text("SELECT 1")).scalar()
            self._connection.commit()
        except Exception as exc:  # the server or the network dropped the session, and the lock with it
            log.error("lease lost with its connection (%s)", exc.__class__.__name__)
            self._drop_connection()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:space, :key)"), {"space": LEASE_SPACE, "key": self._key}
                )
                self._connection.commit()
            except Exception as exc:  # closing the connection releases it anyway
                log.warning("lease not released cleanly (%s)", exc.__class__.__name__)
            self._drop_connection()
        if self._file is not None:
            self._file.close()  # the lock goes with the file
            self._file = None

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:  # already broken: nothing more to free
                log.debug("lease connection already closed")

    def _lock_file(self) -> bool:
        assert self.sqlite_path is not None
        handle = self.sqlite_path.with_name(self.sqlite_path.name + ".lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._file = handle
        return True


def _sqlite_file(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve()
