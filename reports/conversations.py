"""What customers asked and how it ended: contacts per day, the bot's share, top and unanswered questions."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from crm_store.models import Contact
from knowledge.text import normalise
from reports.periods import Period, within

TOP = 10
BATCH = 5000
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
# Chinese is written without spaces; a stray one ("能寄到 火星吗") must not make a new question.
_CJK_SPACES = re.compile(r"(?<=[\u3000-\u9fff])\s+|\s+(?=[\u3000-\u9fff])")


@dataclass(frozen=True)
class DayCount:
    day: date
    customer: int = 0
    bot: int = 0
    staff: int = 0


def contacts_per_day(session: Session, period: Period) -> list[DayCount]:
    """Customer messages, bot replies and staff replies per local day (every day, zeros included)."""
    counts: dict[date, Counter[str]] = {day: Counter() for day in period.days()}
    stmt = select(Contact.at, Contact.actor).where(
        within(period, Contact.at),
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
        .where(within(period, Contact.at), Contact.actor == "customer", Contact.intent.in_(OUTCOME_OF_INTENT))
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
            within(period, Contact.at),
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
        within(period, Contact.at), Contact.actor == "customer", Contact.intent == "no_answer"
    )
    counter: Counter[str] = Counter()
    for (text,) in session.execute(stmt.execution_options(yield_per=BATCH)):
        if normalised := normalise_question(text):
            counter[normalised] += 1
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]


def normalise_question(text: str | None) -> str:
    """Fold the ways people type one question into one key: the message normaliser (width, case,
    Traditional, punctuation), then no spaces between Chinese characters."""
    return _CJK_SPACES.sub("", normalise(text or ""))
