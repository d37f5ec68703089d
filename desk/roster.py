"""How the on-duty roster and its members are named in the staff group (the card, alerts, /onduty)."""

from __future__ import annotations

from crm_store import Session
from crm_store import duty as duty_store
from crm_store.models import StaffMember


def member_label(member: StaffMember) -> str:
    return f"{member.name} (@{member.username})" if member.username else member.name


def roster_line(session: Session) -> str:
    members = duty_store.on_duty(session)
    if not members:
        return "⚪ 暂无人值班：新工单在 /queue 等待。"
    return "🟢 值班：" + "、".join(member_label(member) for member in members)
