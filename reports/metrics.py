"""The numbers behind a report: plain queries over contacts, tickets and tags for one period."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median, quantiles

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from crm_store.models import ACTIVE_STATUSES, Contact, Customer, CustomerTag, Tag, Ticket
from desk.complaints import CAUSE_LABELS
from reports.periods import Period

TOP = 10
BATCH = 5000
AT_RISK_TAG = "at_risk"
# How a customer's message ended, grouped the way a manager thinks about it.
OUTCOME_OF_INTENT = {
    "answered": "bot",
    "picked": "bot",
    "suggested": "suggested",
    "no_answer": "no_answer",
    "handoff": "staff",
    "complaint": "staff",
}
OUTCOMES = ("bot", "suggested", "no_answer", "staff")
_SPACES = re.compile(r"\s+")
# Chinese is written without spaces; a stray one ("能寄到 火星吗") must not make a new question.
_CJK_SPACES = re.compile(r"(?<=[\u3000-\u9fff])\s+|\s+(?=[\u3000-\u9fff])")
_EDGE_PUNCTUATION = "?？!！。.,，~～、…;；:：\"'“”‘’()（）[]【】"


@dataclass(frozen=True)
class DayCount:
    day: date
    customer: int = 0
    bot: int = 0
    staff: int = 0


@dataclass(frozen=True)
class Durations:
    """Minutes from opening a ticket to an event, over the tickets that reached it."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, minutes: list[float]) -> Durations:
        if not minutes:
            return cls()
        p90 = quantiles(minutes, n=10, method="inclusive")[-1] if len(minutes) > 1 else minutes[0]
        return cls(len(minutes), median(minutes), p90)


@dataclass(frozen=True)
class AtRisk:
    name: str
    username: str | None
    last_contact_at: datetime
    open_tickets: int


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
    first_response: Durations = Durations()
    resolution: Durations = Durations()
    satisfaction: dict[int, int] = field(default_factory=dict)
    at_risk: list[AtRisk] = field(default_factory=list)
    at_risk_total: int = 0

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
    data = ReportData(period=period, generated_at=now)
    data.days = contacts_per_day(session, period)
    data.outcomes = question_outcomes(session, period)
    data.top_questions = [
        (_entry_label(entry_id, entry_title), count) for entry_id, count in top_questions(session, period)
    ]
    data.unanswered = unanswered_questions(session, period)
    _fill_tickets(session, period, now, data)
    data.satisfaction = satisfaction_scores(session, period)
    data.at_risk, data.at_risk_total = customers_at_risk(session)
    return data


def _in(period: Period, column):  # type: ignore[no-untyped-def]
    return and_(column >= period.start, column < period.end)


def contacts_per_day(session: Session, period: Period) -> list[DayCount]:
    """Customer messages, bot replies and staff replies per local day (every day, zeros included)."""
    counts: dict[date, Counter[str]] = {day: Counter() for day in period.days()}
    stmt = select(Contact.at, Contact.actor).where(
        _in(period, Contact.at),
        or_(
            and_(Contact.actor == "customer", Contact.direction == "in"),
            and_(Contact.actor.in_(("bot", "staff")), Contact.direction == "out"),
        ),
    )
    # Bucketing by local day in Python works the same on every backend and time zone.
    for at, actor in session.execute(stmt.execution_options(yield_per=BATCH)):
        day = period.local_day(at)
        if day in counts:
            counts[day][actor] += 1
    return [DayCount(day, c["customer"], c["bot"], c["staff"]) for day, c in counts.items()]


def question_outcomes(session: Session, period: Period) -> dict[str, int]:
    """How customers' questions ended: answered by the bot, suggestions, no answer, passed to staff."""
    stmt = (
        select(Contact.intent, func.count())
        .where(_in(period, Contact.at), Contact.actor == "customer", Contact.intent.in_(OUTCOME_OF_INTENT))
        .group_by(Contact.intent)
    )
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for intent, count in session.execute(stmt):
        outcomes[OUTCOME_OF_INTENT[intent]] += count
    return outcomes


def top_questions(session: Session, period: Period, limit: int = TOP) -> list[tuple[str, int]]:
    """Knowledge entries customers asked for most (answered or picked from suggestions)."""
    count = func.count().label("n")
    stmt = (
        select(Contact.entry_id, count)
        .where(
            _in(period, Contact.at),
            Contact.actor == "customer",
            Contact.intent.in_(("answered", "picked")),
            Contact.entry_id.is_not(None),
        )
        .group_by(Contact.entry_id)
        .order_by(count.desc(), Contact.entry_id)
        .limit(limit)
    )
    return [(entry_id, n) for entry_id, n in session.execute(stmt)]


def unanswered_questions(session: Session, period: Period, limit: int = TOP) -> list[tuple[str, int]]:
    """What the knowledge base could not answer, most frequent first (the list of entries to add)."""
    stmt = select(Contact.text).where(
        _in(period, Contact.at), Contact.actor == "customer", Contact.intent == "no_answer"
    )
    counter: Counter[str] = Counter()
    for (text,) in session.execute(stmt.execution_options(yield_per=BATCH)):
        if normalised := normalise_question(text):
            counter[normalised] += 1
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]


def normalise_question(text: str | None) -> str:
    """Fold the ways people type one question into one key: width, case, spaces, edge punctuation."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return _CJK_SPACES.sub("", _SPACES.sub(" ", folded)).strip().strip(_EDGE_PUNCTUATION).strip()


def _fill_tickets(session: Session, period: Period, now: datetime, data: ReportData) -> None:
    """Complaints opened in the period: causes, statuses, deadlines, response and resolution times."""
    stmt = select(
        Ticket.cause, Ticket.status, Ticket.opened_at, Ticket.due_at, Ticket.first_response_at,
        Ticket.resolved_at, Ticket.breached_at,
    ).where(_in(period, Ticket.opened_at))  # fmt: skip
    causes: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    deadlines = {"met": 0, "missed": 0, "pending": 0}
    first: list[float] = []
    resolved: list[float] = []
    for cause, status, opened, due, responded, done, breached in session.execute(stmt):
        causes[cause or "other"] += 1
        statuses[status] += 1
        deadlines[deadline_state(due, done, breached, now)] += 1
        if responded is not None:
            first.append((responded - opened).total_seconds() / 60)
        if done is not None:
            resolved.append((done - opened).total_seconds() / 60)
    data.by_cause = [(cause_label(cause), n) for cause, n in causes.most_common()]
    data.by_status = statuses.most_common()
    data.deadlines = deadlines
    data.first_response = Durations.of(first)
    data.resolution = Durations.of(resolved)


def deadline_state(due: datetime, resolved: datetime | None, breached: datetime | None, now: datetime) -> str:
    """met, missed or pending: a flagged breach counts as missed even if the ticket was solved later."""
    if breached is not None:
        return "missed"
    if resolved is not None:
        return "met" if resolved <= due else "missed"
    return "pending" if due >= now else "missed"


def satisfaction_scores(session: Session, period: Period) -> dict[int, int]:
    """How many tickets got each score 1–5, by when they were rated."""
    rated_at = func.coalesce(Ticket.rated_at, Ticket.resolved_at, Ticket.opened_at)
    stmt = (
        select(Ticket.satisfaction, func.count())
        .where(Ticket.satisfaction.is_not(None), _in(period, rated_at))
        .group_by(Ticket.satisfaction)
    )
    scores = dict.fromkeys(range(1, 6), 0)
    for score, count in session.execute(stmt):
        if score in scores:
            scores[score] += count
    return scores


def customers_at_risk(session: Session, limit: int = TOP) -> tuple[list[AtRisk], int]:
    """Customers tagged at risk now, most recently heard from first, with their open tickets."""
    tagged = (
        select(CustomerTag.customer_id)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(Tag.name == AT_RISK_TAG)
        .scalar_subquery()
    )
    open_tickets = (
        select(func.count())
        .where(Ticket.customer_id == Customer.id, Ticket.status.in_(ACTIVE_STATUSES))
        .scalar_subquery()
    )
    # Erased customers asked to be forgotten: they are neither listed nor counted.
    at_risk = (Customer.id.in_(tagged), Customer.erased_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Customer).where(*at_risk)) or 0
    stmt = (
        select(Customer.display_name, Customer.username, Customer.last_contact_at, open_tickets)
        .where(*at_risk)
        .order_by(Customer.last_contact_at.desc())
        .limit(limit)
    )
    return [AtRisk(*row) for row in session.execute(stmt)], total


def cause_label(cause: str) -> str:
    """交货不准时 late delivery: the taxonomy's Chinese name with the English one; unknown causes as stored."""
    labels = CAUSE_LABELS.get(cause)
    return f"{labels['zh']} {labels['en']}" if labels else cause


def _entry_label(entry_id: str, entry_title: Callable[[str], str | None]) -> str:
    title = entry_title(entry_id)
    return f"{title} ({entry_id})" if title else entry_id
