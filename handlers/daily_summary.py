"""The managers' daily summary, sent by a JobQueue job at `reports.daily_at` in the desk's time zone."""

from __future__ import annotations

from datetime import time

from telegram.ext import Application, ContextTypes

from desk import daily
from handlers.context import desk_of


def schedule_daily_summary(application: Application, at: time) -> None:
    if application.job_queue is not None:
        application.job_queue.run_daily(send_daily_summary, time=at, name="daily_summary")


async def send_daily_summary(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yesterday's figures, open and overdue tickets, customers at risk: to each manager's private chat."""
    desk = desk_of(context)
    if not desk.leading:
        return  # with several workers the lease holder sends it (the store's record keeps it to one a day)
    desk.submit(await desk.run(daily.daily_summary, desk.context))
