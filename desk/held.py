"""While staff hold a customer's ticket: what the bot still says, so that nobody is left in silence.

Plain functions; the conversation records and sends what they decide.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crm_store.models import Ticket
from desk.complaints import DeadlineRules, clock_time_between, later_by
from desk.dates import local_time
from desk.hours import BusinessHours, is_open, next_open
from desk.intents import Intent
from desk.texts import say

# Confident answers the bot goes on giving while nobody is at work to take the chat (guesses would be noise).
MEANWHILE = (Intent.ANSWERED,)


def answers_meanwhile(ticket: Ticket, intent: Intent, hours: BusinessHours, now: datetime) -> bool:
    """Out of hours and not taken yet: the bot keeps answering questions (and still copies them to staff)."""
    return intent in MEANWHILE and ticket.assignee_user_id is None and not is_open(now, hours)


def note_while_held(
    ticket: Ticket,
    intent: Intent,
    *,
    last_told: datetime | None,
    ack_every: timedelta,
    hours: BusinessHours,
    zone: ZoneInfo,
    language: str,
    now: datetime,
) -> str | None:
    """What the customer hears when they write to a held ticket: None when they were told recently.

    Asking for a person again is always answered (they are with one already); anything else is
    acknowledged at most once per `ack_every`, counting every message the customer got about the ticket.
    """
    who = ticket.assignee_name or say("held_nobody_yet", language)
    values = {"number": ticket.number, "who": who, "due": local_time(ticket.due_at, zone, language)}
    if intent == Intent.HANDOFF:
        text = say("already_with_person", language, **values)
    elif last_told is not None and now - last_told < ack_every:
        return None
    else:
        text = say("held_ack", language, **values)
    if not is_open(now, hours):
        text += "\n" + say("held_away", language, back=local_time(next_open(now, hours), zone, language))
    return text


def resumed_due(rules: DeadlineRules, ticket: Ticket, now: datetime) -> datetime:
    """The deadline once the customer answers a waiting ticket: what was left of it when waiting began."""
    since = ticket.waiting_since or now
    left = clock_time_between(rules, since, ticket.due_at)
    return later_by(rules, now, left)
