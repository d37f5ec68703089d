"""Workers tell the lease holder that they queued outbox rows: PostgreSQL's LISTEN/NOTIFY.

A worker records a contact and what it owes, and the transaction that queues the rows notifies; the
holder's listener wakes its sender, which reads the rows in the store's order. A lost notification costs only latency:
the holder also looks every `workers.pickup_seconds`.

The channel is named after the database and schema, as deployments in other schemas have their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
ANNOUNCED = "outbox announced"
CHANNEL = "'desk_outbox_' || md5(current_database() || ':' || current_schema())"


def announce_outbox(session: Session) -> None:
    """Delivered when the transaction commits, to whichever worker listens (none on SQLite); once per unit
    of work, however many rows it queues (each unit of work has a session of its own)."""
    if session.info.get(ANNOUNCED) or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text(f"SELECT pg_notify({CHANNEL}, '')"))
    session.info[ANNOUNCED] = True


class OutboxListener:
    """A thread on a connection of its own, calling `wake()` (from that thread) on each notification."""

    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        self._engine = engine
        self._wake = wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._engine.dialect.name != "postgresql" or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._listen, name="outbox-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen_once()
            except Exception as exc:  # the server went away: the pick-up poll covers until it is back
                log.warning("outbox listener: %s; listening again shortly", exc.__class__.__name__)
                self._stop.wait(2.0)

    def _listen_once(self) -> None:
        raw = self._engine.raw_connection()
        try:
            connection = raw.driver_connection
            connection.autocommit = True
            channel = connection.execute(f"SELECT {CHANNEL}").fetchone()[0]
            connection.execute(f'LISTEN "{channel}"')
            while not self._stop.is_set():
                # A timeout keeps the thread responsive to stop(); several notices wake the sender once.
                if any(True for _ in connection.notifies(timeout=1.0, stop_after=1)):
                    self._wake()
        finally:
            raw.invalidate()  # a LISTENing session must not go back to the pool
