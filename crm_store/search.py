"""Text search over contacts with the database's own index, never a scan in Python.

SQLite: the FTS5 table `contacts_search` (trigram tokenizer) indexes contacts.text; a term of three
characters or more is a quoted phrase in MATCH, so Chinese words and phrases match as substrings, and
English words case-insensitively. Trigrams cannot find a one- or two-character term (退款, ok): such a
term is a LIKE filter on the rows the long terms found, and when every term is short the search walks
the contacts newest first, stopping at the limit: common short words stop quickly, rare ones read the
period (or everything). A bigram index would make rare short words fast too, at twice the index size;
the desk's short searches are mostly common words (退款, 发票), so it is not built.

PostgreSQL: ILIKE per term, served by the pg_trgm GIN index for terms of three characters or more; for
short ones the planner walks the primary key newest first, in the same way.

The index follows the rows (triggers on SQLite, the index itself on PostgreSQL), so erasing a customer,
which blanks their texts, clears them from the search too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, and_, bindparam, column, literal_column, select, table

from crm_store.db import Session
from crm_store.models import Contact, Customer, RelayedMessage, StaffTopic, Ticket

# A term this long has trigrams to look up.
TRIGRAM = 3
# SQLite's FTS5 index of contacts.text (migration 0010); not a mapped table.
SEARCH_INDEX = table("contacts_search", column("rowid", Integer))


def modelled(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """For alembic's comparisons: False for the search index's objects, which no model declares (the FTS5
    table and its shadow tables on SQLite, the trigram index on PostgreSQL)."""
    if type_ == "table" and name is not None and name.startswith("contacts_search"):
        return False
    return not (type_ == "index" and name == "ix_contacts_text_trgm")


@dataclass(frozen=True)
class Hit:
    """One message found, with what staff need to open it: customer, ticket, and the topic message."""

    contact_id: int
    at: datetime
    customer_id: int
    customer_name: str
    direction: str
    actor: str
    staff_name: str | None
    text: str
    ticket_number: str | None
    staff_chat_id: int | None
    thread_id: int | None
    staff_message_id: int | None


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(term: str, postgres: bool) -> ColumnElement[bool]:
    if postgres:
        return Contact.text.ilike(_like_pattern(term), escape="\\")
    return Contact.text.like(_like_pattern(term), escape="\\")


def _fts_phrase(terms: Sequence[str]) -> str:
    """FTS5 query: every term a quoted phrase (so no word is read as an operator), all required."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def search_contacts(
    session: Session,
    terms: Sequence[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[Hit]:
    """Contacts whose text contains every term, newest first (the order they were recorded in)."""
    terms = [term for term in terms if term]
    if not terms:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    conditions: list[ColumnElement[bool]] = [Contact.text != ""]
    if since is not None:
        conditions.append(Contact.at >= since)
    if until is not None:
        conditions.append(Contact.at < until)
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    if postgres or not long_terms:
        conditions += [_contains(term, postgres) for term in terms]
        stmt = select(Contact.id).where(and_(*conditions)).order_by(Contact.id.desc())
    else:
        # The FTS table drives the loop and yields its rowids newest first, so the search stops at the limit
        # instead of sorting every match.
        conditions += [_contains(term, postgres) for term in terms if len(term) < TRIGRAM]
        matches = literal_column("contacts_search").op("MATCH")(bindparam("phrase", _fts_phrase(long_terms)))
        stmt = (
            select(Contact.id)
            .select_from(SEARCH_INDEX)
            .join(Contact, Contact.id == SEARCH_INDEX.c.rowid)
            .where(matches, *conditions)
            .order_by(SEARCH_INDEX.c.rowid.desc())
        )
    return _hits(session, list(session.scalars(stmt.limit(limit))))


def _hits(session: Session, ids: list[int]) -> list[Hit]:
    if not ids:
        return []
    topic_message = (
        select(RelayedMessage.staff_message_id)
        .where(RelayedMessage.contact_id == Contact.id)
        .order_by(RelayedMessage.id)
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(Contact, Customer.display_name, Customer.external_id, Ticket.number, StaffTopic, topic_message)
        .join(Customer, Customer.id == Contact.customer_id)
        .outerjoin(Ticket, Ticket.id == Contact.ticket_id)
        .outerjoin(StaffTopic, StaffTopic.customer_id == Contact.customer_id)
        .where(Contact.id.in_(ids))
    )
    rows = {row[0].id: row for row in session.execute(stmt)}
    hits = []
    for contact_id in ids:
        contact, name, external_id, number, topic, message_id = rows[contact_id]
        hits.append(
            Hit(
                contact_id=contact.id,
                at=contact.at,
                customer_id=contact.customer_id,
                customer_name=name or external_id,
                direction=contact.direction,
                actor=contact.actor,
                staff_name=contact.staff_name,
                text=contact.text,
                ticket_number=number,
                staff_chat_id=topic.chat_id if topic else None,
                thread_id=topic.thread_id if topic else None,
                staff_message_id=message_id,
            )
        )
    return hits
