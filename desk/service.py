"""The desk as the channels see it: async calls that run each unit of work off the event loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from crm_store import Store
from crm_store.dead_letters import record_dead_letter
from desk.conversation import DeskContext, handle_inbound
from desk.flood import FloodGate
from desk.language import reply_language
from desk.messages import Inbound, Outcome, Reply
from desk.spool import Spool
from desk.texts import say
from knowledge import KnowledgeBase

T = TypeVar("T")
log = logging.getLogger(__name__)
# The database is unreachable or locked: worth waiting for, unlike a bug (which must not be spooled forever).
STORE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


class Desk:
    """Built once at start-up; shared by every channel adapter."""

    def __init__(
        self, *, store: Store, context: DeskContext, spool: Spool | None = None, flood: FloodGate | None = None
    ) -> None:
        self.store = store
        self.context = context
        self.spool = spool
        self.flood = flood or FloodGate()
        # SQLite has one writer at a time: one store thread avoids lock contention; PostgreSQL takes more.
        workers = 1 if store.is_sqlite else 4
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")

    @property
    def kb(self) -> KnowledgeBase:
        return self.context.kb

    def replace_knowledge(self, kb: KnowledgeBase) -> None:
        """Swap the knowledge base atomically; units of work already running keep the old one."""
        self.context = replace(self.context, kb=kb)

    async def handle(self, inbound: Inbound) -> Outcome:
        """Record and answer one customer contact; while the store is down, keep it in the spool."""
        customer = f"{inbound.customer.channel}:{inbound.customer.external_id}"
        flow = self.flood.check(customer, time.monotonic())
        try:
            return await self.run(handle_inbound, self.context, inbound, flow)
        except STORE_DOWN as exc:
            if self.spool is None:
                raise
            await asyncio.to_thread(self.spool.append, inbound)
            log.error("store unavailable (%s): contact of update %s spooled", exc.__class__.__name__, inbound.update_id)
            language = reply_language(inbound.text, inbound.customer.language, self.context.default_language)
            return Outcome(replies=[Reply(say("spooled", language))], spooled=True)

    async def replay_spool(self) -> list[tuple[Inbound, Outcome]]:
        """Record what was spooled during an outage, oldest first; stops at the first store failure."""
        if self.spool is None:
            return []
        replayed: list[tuple[Inbound, Outcome]] = []
        for batch in await asyncio.to_thread(self.spool.batches):
            done = 0
            try:
                for inbound in await asyncio.to_thread(lambda batch=batch: list(self.spool.read(batch))):
                    outcome = await self.run(handle_inbound, self.context, inbound)
                    done += 1
                    replayed.append((inbound, outcome))
            except STORE_DOWN:
                return replayed
            finally:
                await asyncio.to_thread(self.spool.keep_from, batch, done)
        if replayed:
            log.warning("replayed %d spooled contacts into the store", len(replayed))
        return replayed

    async def keep_dead_letter(self, raw: dict[str, Any], error: str) -> None:
        """Keep an update no channel could read; raises STORE_DOWN when the store cannot take it yet."""
        await self.run(record_dead_letter, raw, error, self.context.clock())

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """Run `work(session, *args)` in one transaction on the store's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self._unit_of_work, work, *args))

    def _unit_of_work(self, work: Callable[..., T], *args: object) -> T:
        with self.store.transaction() as session:
            return work(session, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.store.close()
