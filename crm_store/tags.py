"""Customer tags: what kind of customer this is, set by a rule, the config or a staff member."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_store.models import CustomerTag, Tag, TagKind, TagSource

# Tags the desk's rules set and read; staff may add any other.
VIP = "VIP"
NEW = "new"
REPEAT_COMPLAINANT = "repeat_complainant"
OPEN_COMPLAINT = "open_complaint"
AT_RISK = "at_risk"
KNOWN_KINDS: dict[str, TagKind] = {
    VIP: TagKind.VALUE,
    "key_account": TagKind.VALUE,
    "high_value": TagKind.VALUE,
    "potential": TagKind.VALUE,
    NEW: TagKind.STAGE,
    "loyal": TagKind.LOYALTY,
    "silent": TagKind.STAGE,
    REPEAT_COMPLAINANT: TagKind.RISK,
    OPEN_COMPLAINT: TagKind.RISK,
    AT_RISK: TagKind.RISK,
    "price_sensitive": TagKind.STAGE,
    "dominant": TagKind.TEMPERAMENT,
    "expressive": TagKind.TEMPERAMENT,
    "amiable": TagKind.TEMPERAMENT,
    "analytical": TagKind.TEMPERAMENT,
}


def ensure_tag(session: Session, name: str, kind: TagKind | None = None) -> Tag:
    """The tag called `name`, created on first use (race-safe: the name is unique)."""
    tag = session.scalars(select(Tag).where(Tag.name == name)).one_or_none()
    if tag is not None:
        return tag
    kind = kind or KNOWN_KINDS.get(name, TagKind.CUSTOM)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Tag).values(name=name, kind=kind).on_conflict_do_nothing(index_elements=[Tag.name]))
    return session.scalars(select(Tag).where(Tag.name == name)).one()


def add_tag(
    session: Session,
    customer_id: int,
    name: str,
    *,
    source: TagSource,
    at: datetime,
    kind: TagKind | None = None,
    user_id: int | None = None,
    user_name: str | None = None,
) -> bool:
    """Tag the customer; False when they already carried the tag (the first setter is kept)."""
    tag = ensure_tag(session, name, kind)
    exists = session.scalars(
        select(CustomerTag.id).where(CustomerTag.customer_id == customer_id, CustomerTag.tag_id == tag.id)
    ).first()
    if exists is not None:
        return False
    with session.begin_nested():
        session.add(
            CustomerTag(
                customer_id=customer_id,
                tag_id=tag.id,
                source=source,
                set_by_user_id=user_id,
                set_by_name=user_name,
                set_at=at,
            )
        )
    return True


def remove_tag(session: Session, customer_id: int, name: str) -> bool:
    tag_id = session.scalars(select(Tag.id).where(Tag.name == name)).one_or_none()
    if tag_id is None:
        return False
    result = session.execute(
        delete(CustomerTag).where(CustomerTag.customer_id == customer_id, CustomerTag.tag_id == tag_id)
    )
    return result.rowcount > 0


def tags_of(session: Session, customer_id: int) -> list[CustomerTag]:
    stmt = select(CustomerTag).where(CustomerTag.customer_id == customer_id).order_by(CustomerTag.set_at)
    return list(session.scalars(stmt))


def tag_names(session: Session, customer_id: int) -> set[str]:
    stmt = select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
    return set(session.scalars(stmt.where(CustomerTag.customer_id == customer_id)))
