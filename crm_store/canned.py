"""Canned replies managers changed in the desk (/canned add|del), kept above the content file's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from crm_store.db import Session
from crm_store.models import CannedReply


def changed_replies(session: Session) -> Sequence[CannedReply]:
    """Every reply changed in the desk; a row with text None removes the file's reply of that code."""
    return session.scalars(select(CannedReply).order_by(CannedReply.code)).all()


def changed_reply(session: Session, code: str) -> CannedReply | None:
    return session.get(CannedReply, code)


def save_reply(session: Session, code: str, text: str | None, *, user_id: int | None, at: datetime) -> None:
    """Add or replace the reply `code` (text None: removed)."""
    row = session.get(CannedReply, code)
    if row is None:
        session.add(CannedReply(code=code, text=text, updated_by=user_id, updated_at=at))
    else:
        row.text, row.updated_by, row.updated_at = text, user_id, at


def forget_reply(session: Session, code: str) -> bool:
    """Drop the desk's change of `code` (the file's reply, if any, applies again)."""
    row = session.get(CannedReply, code)
    if row is None:
        return False
    session.delete(row)
    return True
