"""Concurrent update processing that keeps each chat's updates in order.

Different customers are served side by side (one slow send does not hold everyone up), while one
customer's messages are handled, and so answered, strictly in the order they arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 32) -> None:
        super().__init__(max_concurrent_updates)
        self._tails: dict[int, asyncio.Future[None]] = {}
        # Told when an update's handling is over (done or failed): the poller confirms it to Telegram then.
        self.finished: Callable[[object], None] | None = None

    async def process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        try:
            await self._process_in_order(update, coroutine)
        finally:
            if self.finished is not None:
                self.finished(update)

    async def _process_in_order(self, update: object, coroutine: Awaitable[object]) -> None:
        # Queue behind the chat's previous update before taking a concurrency slot: PTB starts these
        # calls in arrival order, so the chain below is in arrival order too.
        key = _chat_key(update)
        if key is None:
            async with self._semaphore:
                await coroutine
            return
        previous = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done
        try:
            if previous is not None:
                await previous
            async with self._semaphore:
                await coroutine
        finally:
            done.set_result(None)
            if self._tails.get(key) is done:
                del self._tails[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user else None
