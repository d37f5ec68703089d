"""Running a FakeBotApi on its own loop in a daemon thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from ._server import FakeBotApi
from ._types import ApiCall


def _threadsafe(name: str) -> Callable[..., Any]:
    def method(self: FakeBotApiThread, *args: Any, **kwargs: Any) -> Any:
        return self.call(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"Thread-safe :meth:`FakeBotApi.{name}`."
    return method


class FakeBotApiThread:
    """Runs a :class:`FakeBotApi` on its own event loop in a daemon thread.

    For subprocess tests and benchmarks, where the bot is not on the test's loop. Use the
    wrappers here (they hop onto the fake's loop) rather than the fake's methods directly.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.fake: FakeBotApi | None = None

    def start(self) -> FakeBotApi:
        ready: concurrent.futures.Future[FakeBotApi] = concurrent.futures.Future()

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)

            async def boot() -> FakeBotApi:
                fake = FakeBotApi(**self._kwargs)
                await fake.start()
                return fake

            try:
                self.fake = loop.run_until_complete(boot())
            except BaseException as exc:
                ready.set_exception(exc)
                loop.close()
                return
            ready.set_result(self.fake)
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="FakeBotApiThread", daemon=True)
        self._thread.start()
        return ready.result(timeout=10)

    def stop(self) -> None:
        if self._loop is None or self.fake is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop = self.fake = self._thread = None

    def __enter__(self) -> FakeBotApiThread:
        """Start and return the wrapper itself: use its thread-safe methods from the caller's side."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_loop(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` on the fake's loop (call_soon_threadsafe) and return its result."""
        assert self._loop is not None and self.fake is not None, "FakeBotApiThread not started"
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:
                done.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return done.result(timeout=10)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Thread-safe ``fake.<name>(*args, **kwargs)``."""
        return self._on_loop(lambda: getattr(self.fake, name)(*args, **kwargs))

    @property
    def base_url(self) -> str:
        assert self.fake is not None
        return self.fake.base_url

    @property
    def base_file_url(self) -> str:
        assert self.fake is not None
        return self.fake.base_file_url

    @property
    def token(self) -> str:
        assert self.fake is not None
        return self.fake.token

    @property
    def calls(self) -> list[ApiCall]:
        """A snapshot of the calls so far."""
        return self._on_loop(lambda: list(self.fake.calls))  # type: ignore[union-attr]

    def wait_for(
        self, method: str, count: int = 1, *, chat_id: int | None = None, timeout: float = 5.0
    ) -> list[ApiCall]:
        """Blocking :meth:`FakeBotApi.wait_for`."""
        assert self._loop is not None and self.fake is not None
        coro = self.fake.wait_for(method, count, chat_id=chat_id, timeout=timeout)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout + 5)

    def wait_until_drained(self, timeout: float = 5.0) -> None:
        """Blocking :meth:`FakeBotApi.wait_until_drained`."""
        assert self._loop is not None and self.fake is not None
        coro = self.fake.wait_until_drained(timeout)
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout + 5)

    push_update = _threadsafe("push_update")
    push_text = _threadsafe("push_text")
    push_callback = _threadsafe("push_callback")
    push_media = _threadsafe("push_media")
    push_edited_text = _threadsafe("push_edited_text")
    push_my_chat_member = _threadsafe("push_my_chat_member")
    push_channel_post = _threadsafe("push_channel_post")
    push_duplicate = _threadsafe("push_duplicate")
    sent = _threadsafe("sent")
    delete_topic = _threadsafe("delete_topic")
    fail_next = _threadsafe("fail_next")
    block_user = _threadsafe("block_user")
    unblock_user = _threadsafe("unblock_user")
    set_latency = _threadsafe("set_latency")
    set_member_status = _threadsafe("set_member_status")
