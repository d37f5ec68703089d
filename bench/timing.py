"""Timing helpers shared by the benchmarks that drive the real Application."""

from __future__ import annotations

import time

from telegram import Update
from telegram.ext import Application, TypeHandler


def stamp_handling(application: Application) -> list[float]:
    """Record each update's handling time (seconds) in the returned list, as updates finish.

    Group -1 runs before the real handlers and group 1 after them, for the same update.
    """
    started: dict[int, float] = {}
    latencies: list[float] = []

    async def stamp_in(update: Update, _context: object) -> None:
        started[update.update_id] = time.perf_counter()

    async def stamp_out(update: Update, _context: object) -> None:
        latencies.append(time.perf_counter() - started.pop(update.update_id))

    application.add_handler(TypeHandler(Update, stamp_in), group=-1)
    application.add_handler(TypeHandler(Update, stamp_out), group=1)
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
