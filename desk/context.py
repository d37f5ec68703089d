"""What the desk's decisions need besides the store: the knowledge base, a few settings and a clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from desk.complaints import ComplaintPolicy
from desk.hours import BusinessHours
from knowledge import KnowledgeBase
from knowledge.canned import CannedReply


@dataclass(frozen=True)
class AssignmentPolicy:
    """Who may be handed tickets, and how many each may hold ([assignment] and [roles] in config.toml)."""

    auto: bool = True
    max_open_per_person: int = 8
    staff_ids: frozenset[int] = frozenset()
    manager_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class DeskContext:
    """What the decisions need besides the store: the knowledge base, a few settings and a clock."""

    kb: KnowledgeBase
    clock: Callable[[], datetime]
    business_name: str = ""
    default_language: str = "zh"
    max_text_chars: int = 4096
    complaints: ComplaintPolicy = field(default_factory=ComplaintPolicy)
    # True when staff can take chats over (a staff group is configured).
    staff_available: bool = True
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # When people work ([hours]); out of them customers are told when they are back.
    hours: BusinessHours = field(default_factory=BusinessHours)
    # The canned replies' content file, by code (the store's changes go above it).
    canned: Mapping[str, CannedReply] = field(default_factory=dict)
    assignment: AssignmentPolicy = field(default_factory=AssignmentPolicy)
