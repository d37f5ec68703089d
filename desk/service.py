"""The desk as the channels see it: async calls that run each unit of work off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import TypeVar

from crm_store import Store
from desk.conversation import DeskContext, handle_inbound
from desk.messages import Inbound, Outcome
from knowledge import KnowledgeBase

T = TypeVar("T")


class Desk:
    """Built once at start-up; shared by every channel adapter."""

    def __init__(self, *, store: Store, context: DeskContext) -> None:
        self.store = store
        self.context = context
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
        """Record and answer one customer contact."""
        return await self.run(handle_inbound, self.context, inbound)

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
