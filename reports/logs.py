"""The interaction log: contacts matching a LogFilter, streamed row by row in columns a manager reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from crm_store.models import Contact, Customer, CustomerTag, Tag, Ticket
from reports.filters import LogFilter

# Bilingual headers: the team reads Chinese, the columns are also matched by English-speaking tools.
COLUMNS = (
    "时间 Time",
    "客户 Customer",
    "客户编号 Customer ID",
    "渠道 Channel",
    "方向 Direction",
    "角色 Actor",
    "回复人 Answered by",
    "内容 Text",
    "意图 Intent",
    "知识条目 Knowledge entry",
    "置信度 Confidence",
    "等待秒 Wait (s)",
    "处理秒 Response (s)",
    "工单 Ticket",
)
WHO = {"customer": "客户", "bot": "机器人", "system": "系统"}
# Rows fetched per round trip: big enough to stream fast, small enough to keep memory flat.
BATCH = 2000

LogRow = tuple[datetime, str, str, str, str, str, str, str, str, str, float | None, float | None, float | None, str]


def log_statement(log_filter: LogFilter) -> Select:
    """The SELECT behind a pull: plain columns (no ORM objects), oldest first."""
    period = log_filter.period
    stmt = (
        select(
            Contact.at,
            Customer.display_name,
            Customer.username,
            Customer.external_id,
            Contact.channel,
            Contact.direction,
            Contact.actor,
            Contact.staff_name,
            Contact.text,
            Contact.intent,
            Contact.entry_id,
            Contact.score,
            Contact.wait_ms,
            Contact.handling_ms,
            Ticket.number,
            Contact.ticket_id,
        )
        .join(Customer, Customer.id == Contact.customer_id)
        .outerjoin(Ticket, Ticket.id == Contact.ticket_id)
        .where(Contact.at >= period.start, Contact.at < period.end)
        .order_by(Contact.at, Contact.id)
    )
    if log_filter.customer:
        stmt = stmt.where(_customer_clause(log_filter.customer))
    if log_filter.tags:
        tagged = (
            select(CustomerTag.id)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.customer_id == Contact.customer_id)
            .where(func.lower(Tag.name).in_([tag.lower() for tag in log_filter.tags]))
        )
        stmt = stmt.where(exists(tagged))
    if log_filter.intents:
        stmt = stmt.where(Contact.intent.in_(log_filter.intents))
    if log_filter.ticket:
        stmt = stmt.where(_ticket_clause(log_filter.ticket))
    if log_filter.actors:
        stmt = stmt.where(Contact.actor.in_(log_filter.actors))
    if log_filter.directions:
        stmt = stmt.where(Contact.direction.in_(log_filter.directions))
    return stmt


def _customer_clause(value: str):  # type: ignore[no-untyped-def]
    if value.startswith("@"):
        return func.lower(Customer.username) == value[1:].lower()
    clauses = [Customer.external_id == value, Customer.display_name == value]
    if value.isdigit():
        clauses.append(Customer.id == int(value))
    return or_(*clauses)


def _ticket_clause(value: str):  # type: ignore[no-untyped-def]
    clauses = [func.upper(Ticket.number) == value.upper()]
    if value.isdigit():
        clauses.append(Contact.ticket_id == int(value))
    return or_(*clauses)


def iter_log_rows(session: Session, log_filter: LogFilter, zone: ZoneInfo) -> Iterator[LogRow]:
    """Stream the matching contacts as display rows; memory stays flat however many there are.

    yield_per fetches in batches and, on PostgreSQL, uses a server-side cursor.
    """
    result = session.execute(log_statement(log_filter).execution_options(yield_per=BATCH))
    for row in result:
        (at, name, username, external_id, channel, direction, actor, staff_name, text, intent, entry_id, score,
         wait_ms, handling_ms, number, ticket_id) = row  # fmt: skip
        customer = f"{name} (@{username})" if username else name
        who = (staff_name or "客服") if actor == "staff" else WHO.get(actor, actor)
        yield (
            # Excel has no time zones: a naive local time, to the second, is what the manager expects.
            at.astimezone(zone).replace(tzinfo=None, microsecond=0),
            customer,
            external_id,
            channel,
            direction,
            actor,
            who,
            text,
            intent or "",
            entry_id or "",
            None if score is None else round(score, 3),
            None if wait_ms is None else wait_ms / 1000,
            None if handling_ms is None else handling_ms / 1000,
            number or (str(ticket_id) if ticket_id else ""),
        )
