"""Recording exports: who pulled which customer records, with what filter, how many, when (DOMAIN.md §6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Export


def record_export(
    session: Session,
    *,
    at: datetime,
    what: str,
    channel: str,
    filters: str = "",
    rows: int = 0,
    format: str | None = None,
    user_id: int | None = None,
    user_name: str | None = None,
) -> int:
    """Add one row to `exports` and return its id; the caller's transaction commits it."""
    export = Export(
        at=at,
        what=what,
        channel=channel,
        filters=filters,
        rows=rows,
        format=format,
        user_id=user_id,
        user_name=(user_name or None) and user_name[:128],
    )
    session.add(export)
    session.flush()
    return export.id


def export_recorded(session: Session, *, what: str, filters: str) -> bool:
    """Whether an export of `what` with exactly these filters was recorded (e.g. a day's summary sent)."""
    stmt = select(Export.id).where(Export.what == what, Export.filters == filters).limit(1)
    return session.scalar(stmt) is not None
