"""Recording that Telegram accepted a message: the marks of many sends written in one transaction.

Every message the bot sends ends with a write that says so (the outbox row, the contact's message id).
One transaction per mark was a third of the store's work under load. Here, what arrives while one
transaction is being written goes into the next one (group commit). A quiet bot loses no time: a lone
mark is written at once. A batch the store refuses is written again one mark at a time, so one bad row
cannot leave the others pending, which would send them twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from desk import outbox
from desk.outbox import Delivered

log = logging.getLogger(__name__)
# The most marks in one transaction: a long backlog still commits in steps.
MOST = 200


class SentMarks:
    """Collects marks and writes them with `run(outbox.record_delivered, …)`, one transaction at a time."""

    def __init__(self, run: Callable[..., Awaitable[Any]], staff_chat: Callable[[], int]) -> None:
        self._run = run
        self._staff_chat = staff_chat
        self._waiting: list[tuple[Delivered, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, delivered: Delivered) -> None:
        """Until this mark is in the store; raises what the store raised for it."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivered, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="outbox-sent-marks")
        # A sender stopping cancels its lane, not the write: the message did go out, and the store must say so.
        await asyncio.shield(future)

    async def flushed(self) -> None:
        """Until every mark handed in so far is written (a stopping sender waits for this)."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MOST], self._waiting[MOST:]
                error = await self._try(batch)
                if error is None or len(batch) == 1:
                    _settle(batch, error)
                    continue
                log.warning("outbox: %d sent marks not written together (%s); one by one", len(batch),
                            error.__class__.__name__)  # fmt: skip
                for one in batch:
                    _settle([one], await self._try([one]))
        finally:
            self._writer = None

    async def _try(self, batch: Sequence[tuple[Delivered, asyncio.Future[None]]]) -> Exception | None:
        """Write these marks in one transaction; what the store raised, or None."""
        try:
            await self._run(outbox.record_delivered, [delivered for delivered, _ in batch], self._staff_chat())
        except Exception as exc:
            return exc
        return None


def _settle(batch: Sequence[tuple[Delivered, asyncio.Future[None]]], error: BaseException | None) -> None:
    for _, future in batch:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
