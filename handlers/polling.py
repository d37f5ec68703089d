"""Long polling that confirms an update to Telegram only after the desk has handled it.

python-telegram-bot's Updater asks for the next batch (which confirms the previous one) as soon as a
batch is queued, before any handler ran: a process killed at that moment loses those updates for good.
Here the offset only moves past updates whose handling finished, so after a crash Telegram delivers the
unfinished ones again, and the store's unique update id makes the ones that were in fact recorded harmless.

Each update is read on its own: one python-telegram-bot cannot parse (a newer Bot API's field, a malformed
payload) is kept as a dead letter in the store and confirmed, instead of failing the whole batch and
stopping the bot on every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ExtBot
from telegram.warnings import PTBUserWarning

from desk.sender import SenderPolicy
from desk.service import STORE_DOWN
from handlers.context import DESK_KEY, SETTINGS_KEY
from handlers.ordering import PerChatOrderedProcessor
from handlers.telegram_channel import TelegramChannel

log = logging.getLogger(__name__)
# getUpdates is asked for raw, so that one unreadable update does not fail the whole batch (Bot.get_updates
# parses them all at once and logs the batch, customers' words included, at CRITICAL when one fails).
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)
# Telegram sends every unconfirmed update again with each call, and parsing them twice costs CPU: with
# more than this many still in hand, wait for the backlog to shrink before asking for more.
LOW_WATER = 16
ERROR_PAUSE = 2.0
# getUpdates may take its whole long-poll timeout to answer: the read timeout is that plus this margin.
READ_MARGIN = 10.0
# Telegram unreachable at start: the first retry after this many seconds, doubling up to the maximum.
CONNECT_FIRST_WAIT = 2.0
CONNECT_MAX_WAIT = 60.0
# On stop, the outbox gets this long to send what it holds (a stop must end within 10 s).
SEND_ON_STOP = 4.0


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
        # Unreadable updates not yet kept in the store (it may be down): they stay unconfirmed until kept.
        self._unreadable: dict[int, tuple[dict[str, Any], str]] = {}
        self.unreadable_count = 0
        # When Telegram last answered getUpdates (monotonic seconds), for the readiness check.
        self.last_contact: float | None = None
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
            if self._unreadable:
                await self._keep_unreadable()
            try:
                # With updates still in hand Telegram answers at once anyway; ask for a short poll.
                updates = await self._fetch(timeout=0 if self._in_flight else self.timeout)
                self.last_contact = time.monotonic()
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
            fresh = updates  # _fetch already skipped what we hold
            for update in fresh:
                self._in_flight.add(update.update_id)
                self._highest = max(self._highest, update.update_id)
                await self.application.update_queue.put(update)
            if not fresh and self._in_flight:
                # Only updates we already hold came back: wait until one is done before asking again.
                await self._wait_for_progress(0.5)

    async def _fetch(self, *, timeout: int) -> list[Update]:
        """The next batch, each update parsed on its own; the unreadable ones are set aside as dead letters."""
        api_kwargs: dict[str, Any] = {"offset": self.offset, "timeout": timeout}
        if self.allowed_updates is not None:
            api_kwargs["allowed_updates"] = self.allowed_updates
        bot = self.application.bot
        raw = await bot.do_api_request("getUpdates", api_kwargs=api_kwargs, read_timeout=timeout + READ_MARGIN)
        updates: list[Update] = []
        for item in raw if isinstance(raw, list) else []:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or update_id <= self._highest:
                continue
            try:
                update = Update.de_json(item, bot)
            except Exception as exc:  # whatever the library raises on a payload it does not know
                self._set_aside(update_id, item, exc)
                continue
            if isinstance(bot, ExtBot):
                bot.insert_callback_data(update)  # as ExtBot.get_updates does
            updates.append(update)
        if self._unreadable:
            await self._keep_unreadable()
        return updates

    def _set_aside(self, update_id: int, item: dict[str, Any], exc: Exception) -> None:
        # The error's class only in the log: its text may quote what the customer wrote.
        log.warning("update %s cannot be read (%s); kept as a dead letter", update_id, exc.__class__.__name__)
        self._in_flight.add(update_id)
        self._highest = max(self._highest, update_id)
        if update_id not in self._unreadable:
            self.unreadable_count += 1
        self._unreadable[update_id] = (item, f"{exc.__class__.__name__}: {exc}")

    async def _keep_unreadable(self) -> None:
        """Store the dead letters, then let Telegram forget them; while the store is down they wait unconfirmed."""
        desk = self.application.bot_data[DESK_KEY]
        for update_id, (item, error) in list(self._unreadable.items()):
            try:
                await desk.keep_dead_letter(item, error)
            except STORE_DOWN as exc:  # keep it unconfirmed and try again next round
                log.warning("dead letter %s not stored yet (%s)", update_id, exc.__class__.__name__)
                return
            del self._unreadable[update_id]
            self._in_flight.discard(update_id)
            self._progress.set()

    async def _wait_for_progress(self, seconds: float) -> None:
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), seconds)

    def _finished(self, update: object) -> None:
        if isinstance(update, Update):
            self._in_flight.discard(update.update_id)
            self._progress.set()


def sender_policy(settings: Any) -> SenderPolicy:
    """How the outbox sends on Telegram, from the settings."""
    tg = settings.telegram
    # overall_max_rate = 0 turns every limiter off, the staff group's pacing included.
    paced = tg.group_max_rate if tg.overall_max_rate > 0 else 0
    return SenderPolicy(customer_attempts=tg.send_attempts, staff_per_minute=paced)


class StoppedWhileConnecting(Exception):
    """A stop was asked for before Telegram could be reached: nothing was started."""


async def connect(application: Application, stopping: asyncio.Event | None = None) -> None:
    """Initialise the Application (its first call asks Telegram who we are), waiting out an unreachable Telegram.

    A host without its proxy, or a network blip at boot, must not kill the desk with a traceback: the
    attempt is retried with backoff, with one clear line each time. A refused token is final.
    """
    delay = CONNECT_FIRST_WAIT
    while True:
        try:
            await application.initialize()
            return
        except InvalidToken:
            raise
        except (NetworkError, TimedOut) as exc:
            log.error(
                "Telegram unreachable at %s (%s); retrying in %.0f s (set telegram.proxy if this host needs one)",
                application.bot.base_url.split("/bot")[0],
                exc.__class__.__name__,
                delay,
            )
        stop = stopping or asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            raise StoppedWhileConnecting
        delay = min(delay * 2, CONNECT_MAX_WAIT)


@contextlib.asynccontextmanager
async def polling(
    application: Application,
    *,
    timeout: int,
    allowed_updates: list[str] | None = None,
    stopping: asyncio.Event | None = None,
) -> AsyncIterator[ConfirmingPoller]:
    """The Application started and polled; on exit the updates in hand are finished, then confirmed."""
    await connect(application, stopping)
    if application.post_init:
        await application.post_init(application)
    await application.start()
    desk = application.bot_data[DESK_KEY]
    # The outbox starts before updates are taken: what an earlier run left pending goes out first.
    settings = application.bot_data[SETTINGS_KEY]
    await desk.attach(TelegramChannel(application.bot, settings.staff_group.chat_id), sender_policy(settings))
    poller = ConfirmingPoller(application, timeout=timeout, allowed_updates=allowed_updates)
    await poller.start()
    try:
        yield poller
    finally:
        try:
            await poller.stop()
        finally:
            await application.stop()
            # Everything handled is in the outbox; what cannot be sent in time stays pending for the next start.
            await desk.detach(SEND_ON_STOP)
            await poller.confirm()
            await application.shutdown()
