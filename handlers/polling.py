"""Long polling that confirms an update to Telegram only after the desk has handled it.

python-telegram-bot's Updater asks for the next batch (which confirms the previous one) as soon as a
batch is queued, before any handler ran: a process killed at that moment loses those updates for good.
Here the offset only moves past updates whose handling finished, so after a crash Telegram delivers the
unfinished ones again, and the store's unique update id makes the ones that were in fact recorded harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from handlers.ordering import PerChatOrderedProcessor

log = logging.getLogger(__name__)
# Telegram sends every unconfirmed update again with each call, and parsing them twice costs CPU: with
# more than this many still in hand, wait for the backlog to shrink before asking for more.
LOW_WATER = 16
ERROR_PAUSE = 2.0


class ConfirmingPoller:
    def __init__(self, application: Application, *, timeout: int, allowed_updates: list[str] | None = None) -> None:
        processor = application.update_processor
        if not isinstance(processor, PerChatOrderedProcessor):
            raise TypeError("the confirming poller needs the PerChatOrderedProcessor to learn when updates finish")
        processor.finished = self._finished
        self.application = application
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        self._in_flight: set[int] = set()
        self._highest = -1
        self._progress = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def task(self) -> asyncio.Task[None]:
        assert self._task is not None, "start() first"
        return self._task

    @property
    def offset(self) -> int:
        """Telegram forgets every update below this id: the oldest still in flight, or past the newest."""
        return min(self._in_flight) if self._in_flight else self._highest + 1

    async def start(self) -> None:
        # getUpdates does not work while a webhook is set.
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._run(), name="confirming-poller")

    async def stop(self) -> None:
        """Stop fetching; the caller stops the Application (which finishes the updates in hand), then `confirm`."""
        self._stopping.set()
        self._progress.set()
        if self._task is not None:
            if not self._task.done():
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task  # re-raises what made polling fail, after the caller's cleanup began

    async def confirm(self) -> None:
        """Tell Telegram what was handled, so a restart does not get it again (after Application.stop)."""
        if self._highest < 0:
            return
        with contextlib.suppress(NetworkError, TimedOut, RetryAfter):
            await self.application.bot.get_updates(offset=self.offset, timeout=0, limit=1)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            if len(self._in_flight) > LOW_WATER:
                await self._wait_for_progress(1.0)
                continue
            try:
                updates = await self.application.bot.get_updates(
                    offset=self.offset,
                    # With updates still in hand Telegram answers at once anyway; ask for a short poll.
                    timeout=0 if self._in_flight else self.timeout,
                    allowed_updates=self.allowed_updates,
                )
            except (InvalidToken, Conflict):
                log.critical("getUpdates refused (invalid token, or another bot process polls): stopping")
                raise
            except RetryAfter as exc:
                await asyncio.sleep(float(exc.retry_after if isinstance(exc.retry_after, int) else ERROR_PAUSE))
                continue
            except (NetworkError, TimedOut) as exc:
                log.warning("getUpdates failed (%s); retrying", exc.__class__.__name__)
                await asyncio.sleep(ERROR_PAUSE)
                continue
            fresh = [update for update in updates if update.update_id > self._highest]
            for update in fresh:
                self._in_flight.add(update.update_id)
                self._highest = update.update_id
                await self.application.update_queue.put(update)
            if not fresh and self._in_flight:
                # Only updates we already hold came back: wait until one is done before asking again.
                await self._wait_for_progress(0.5)

    async def _wait_for_progress(self, seconds: float) -> None:
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), seconds)

    def _finished(self, update: object) -> None:
        if isinstance(update, Update):
            self._in_flight.discard(update.update_id)
            self._progress.set()


@contextlib.asynccontextmanager
async def polling(
    application: Application, *, timeout: int, allowed_updates: list[str] | None = None
) -> AsyncIterator[ConfirmingPoller]:
    """The Application started and polled; on exit the updates in hand are finished, then confirmed."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    poller = ConfirmingPoller(application, timeout=timeout, allowed_updates=allowed_updates)
    await poller.start()
    try:
        yield poller
    finally:
        try:
            await poller.stop()
        finally:
            await application.stop()
            await poller.confirm()
            await application.shutdown()
