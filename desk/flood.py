"""Flood control: a customer sending dozens of messages a second is slowed politely, nothing is lost.

Every message is still recorded; only the bot's answers (and copies to staff) pause. In memory on
purpose: it is politeness, not a record, and it resets with the process.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum


class Flow(StrEnum):
    OK = "ok"
    # Over the limit for the first time in this window: one polite "please slow down".
    WARN = "warn"
    # Still over the limit: recorded, not answered, not copied to staff.
    QUIET = "quiet"


class FloodGate:
    def __init__(self, max_messages: int = 10, window_seconds: float = 10.0, max_customers: int = 100_000) -> None:
        self.max_messages = max_messages
        self.window = window_seconds
        self.max_customers = max_customers
        self._seen: dict[str, deque[float]] = {}
        self._warned: dict[str, float] = {}

    def check(self, customer: str, now: float) -> Flow:
        times = self._seen.get(customer)
        if times is None:
            if len(self._seen) >= self.max_customers:
                self._forget_idle(now)
            times = self._seen[customer] = deque()
        while times and now - times[0] > self.window:
            times.popleft()
        times.append(now)
        if len(times) <= self.max_messages:
            return Flow.OK
        warned = self._warned.get(customer)
        if warned is not None and now - warned <= self.window:
            return Flow.QUIET
        self._warned[customer] = now
        return Flow.WARN

    def _forget_idle(self, now: float) -> None:
        for customer in [c for c, times in self._seen.items() if not times or now - times[-1] > self.window]:
            self._seen.pop(customer, None)
            self._warned.pop(customer, None)
