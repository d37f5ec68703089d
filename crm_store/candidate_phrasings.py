"""The learning loop's records: candidate phrasings, and the question behind a pick."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import CandidatePhrasing, CandidateStatus, Contact, Direction

MAX_PHRASING = 200


def record_candidate(
    session: Session, entry_id: str, phrasing: str, normalized: str, source: str, at: datetime
) -> CandidatePhrasing | None:
    """Count one more use of `phrasing` for `entry_id`; None for text too long or empty to be a phrasing."""
    phrasing = " ".join(phrasing.split())
    if not phrasing or len(phrasing) > MAX_PHRASING or not normalized:
        return None
    stmt = select(CandidatePhrasing).where(
        CandidatePhrasing.entry_id == entry_id, CandidatePhrasing.normalized == normalized[:512]
    )
    candidate = session.scalars(stmt).one_or_none()
    if candidate is not None:
        candidate.count += 1
        candidate.last_at = max(candidate.last_at, at)
        return candidate
    candidate = CandidatePhrasing(
        entry_id=entry_id,
        phrasing=phrasing,
        normalized=normalized[:512],
        source=source,
        count=1,
        first_at=at,
        last_at=at,
        status=CandidateStatus.PENDING,
    )
    with session.begin_nested():  # two workers seeing the same new phrasing: the unique key keeps one
        session.add(candidate)
    return candidate


def pending_candidates(session: Session, limit: int = 20) -> Sequence[CandidatePhrasing]:
    stmt = (
        select(CandidatePhrasing)
        .where(CandidatePhrasing.status == CandidateStatus.PENDING)
        .order_by(CandidatePhrasing.count.desc(), CandidatePhrasing.last_at.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def decide(
    session: Session, candidate_id: int, status: CandidateStatus, user_id: int | None, name: str | None, at: datetime
) -> CandidatePhrasing | None:
    candidate = session.get(CandidatePhrasing, candidate_id)
    if candidate is None or candidate.status != CandidateStatus.PENDING:
        return None
    candidate.status, candidate.decided_at = status, at
    candidate.decided_by_user_id, candidate.decided_by_name = user_id, name
    return candidate


def last_question(session: Session, customer_id: int, intents: Sequence[str]) -> Contact | None:
    """The customer's latest inbound contact with one of these intents (the question behind a pick)."""
    stmt = (
        select(Contact)
        .where(Contact.customer_id == customer_id, Contact.direction == Direction.INBOUND, Contact.intent.in_(intents))
        .order_by(Contact.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()
