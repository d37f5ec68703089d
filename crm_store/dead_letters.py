"""Updates the bot could not read: kept with the error, counted, and erased with the customer they came from."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm_store.models import DeadLetter

ERROR_CHARS = 500


def record_dead_letter(session: Session, raw: dict[str, Any], error: str, at: datetime) -> bool:
    """Keep an unreadable update once (Telegram may deliver it again); False if it was already kept."""
    update_id = int(raw["update_id"])
    if session.scalar(select(DeadLetter.id).where(DeadLetter.update_id == update_id)) is not None:
        return False
    session.add(
        DeadLetter(
            update_id=update_id,
            external_id=sender_of(raw),
            raw=json.dumps(raw, ensure_ascii=False, default=str),
            error=error[:ERROR_CHARS],
            received_at=at,
        )
    )
    session.flush()
    return True


def count_dead_letters(session: Session) -> int:
    return session.scalar(select(func.count(DeadLetter.id))) or 0


def erase_dead_letters(session: Session, external_id: str) -> int:
    """Delete what a customer sent that we could not read (the raw JSON holds their words and name)."""
    return session.execute(delete(DeadLetter).where(DeadLetter.external_id == external_id)).rowcount


def sender_of(raw: dict[str, Any]) -> str | None:
    """The Telegram user an update came from, as far as an unreadable update still says: its `from`, else its chat."""
    for key, value in raw.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        for field in ("from", "user", "chat"):
            who = value.get(field)
            if isinstance(who, dict) and isinstance(who.get("id"), int):
                return str(who["id"])
    return None
