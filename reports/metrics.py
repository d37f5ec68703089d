"""The numbers behind a report, gathered in one object for the charts and the summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from reports.complaints import AtRisk, Durations, customers_at_risk, satisfaction_scores, ticket_figures
from reports.conversations import (
    OUTCOMES,
    DayCount,
    contacts_per_day,
    normalise_question,
    question_outcomes,
    top_questions,
    unanswered_questions,
)
from reports.periods import Period
from reports.staff import StaffFigures, staff_figures

__all__ = ["OUTCOMES", "ReportData", "collect_report", "normalise_question"]


@dataclass
class ReportData:
    period: Period
    generated_at: datetime
    days: list[DayCount] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    top_questions: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    by_cause: list[tuple[str, int]] = field(default_factory=list)
    by_status: list[tuple[str, int]] = field(default_factory=list)
    deadlines: dict[str, int] = field(default_factory=dict)
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    satisfaction: dict[int, int] = field(default_factory=dict)
    at_risk: list[AtRisk] = field(default_factory=list)
    at_risk_total: int = 0
    staff: list[StaffFigures] = field(default_factory=list)

    @property
    def customer_messages(self) -> int:
        return sum(day.customer for day in self.days)

    @property
    def bot_replies(self) -> int:
        return sum(day.bot for day in self.days)

    @property
    def staff_replies(self) -> int:
        return sum(day.staff for day in self.days)

    @property
    def questions(self) -> int:
        return sum(self.outcomes.values())

    @property
    def bot_answer_share(self) -> float | None:
        """Share of customer questions the bot answered by itself (None when there were none)."""
        return self.outcomes.get("bot", 0) / self.questions if self.questions else None

    @property
    def complaints(self) -> int:
        return sum(count for _, count in self.by_cause)

    @property
    def mean_satisfaction(self) -> float | None:
        rated = sum(self.satisfaction.values())
        return sum(score * n for score, n in self.satisfaction.items()) / rated if rated else None


def collect_report(
    session: Session,
    period: Period,
    *,
    now: datetime,
    entry_title: Callable[[str], str | None] = lambda _id: None,
) -> ReportData:
    """Everything a report shows for `period`; `entry_title` turns knowledge entry ids into questions."""
    tickets = ticket_figures(session, period, now)
    at_risk, at_risk_total = customers_at_risk(session)
    return ReportData(
        period=period,
        generated_at=now,
        days=contacts_per_day(session, period),
        outcomes=question_outcomes(session, period),
        top_questions=[(_entry_label(entry, entry_title), n) for entry, n in top_questions(session, period)],
        unanswered=unanswered_questions(session, period),
        by_cause=tickets.by_cause,
        by_status=tickets.by_status,
        deadlines=tickets.deadlines,
        first_response=tickets.first_response,
        resolution=tickets.resolution,
        satisfaction=satisfaction_scores(session, period),
        at_risk=at_risk,
        at_risk_total=at_risk_total,
        staff=staff_figures(session, period, now),
    )


def _entry_label(entry_id: str, entry_title: Callable[[str], str | None]) -> str:
    title = entry_title(entry_id)
    return f"{title} ({entry_id})" if title else entry_id
