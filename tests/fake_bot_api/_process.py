"""Running a FakeBotApi in a child process, so a benchmark measures the bot, not the fake, on the CPU."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from ._thread import FakeBotApiThread


def _serve(connection: Connection, kwargs: dict[str, Any]) -> None:
    with FakeBotApiThread(**kwargs) as server:
        connection.send((server.base_url, server.token))
        while True:
            name, args, options = connection.recv()
            if name == "stop":
                connection.send(None)
                return
            if name == "count":
                connection.send(len(server.sent(*args, **options)))
                continue
            try:
                result = getattr(server, name)(*args, **options)
            except Exception as exc:  # handed back to the caller, who raises it
                connection.send(exc)
                continue
            connection.send(None if name.startswith("push_") else result)


class FakeBotApiProcess:
    """The fake Bot API in a child process, driven through a pipe: push updates, count what was sent."""

    def __init__(self, **kwargs: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, kwargs), daemon=True)
        self.base_url = self.token = ""

    def __enter__(self) -> FakeBotApiProcess:
        self._process.start()
        self.base_url, self.token = self._connection.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self.call("stop")
        self._process.join(timeout=10)

    def call(self, name: str, *args: Any, **options: Any) -> Any:
        self._connection.send((name, args, options))
        result = self._connection.recv()
        if isinstance(result, Exception):
            raise result
        return result

    def push_text(self, user_id: int, text: str, **options: Any) -> None:
        self.call("push_text", user_id, text, **options)

    def count(self, method: str = "sendMessage", **options: Any) -> int:
        return self.call("count", method, **options)
