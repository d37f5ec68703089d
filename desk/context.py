"""What the desk's decisions need besides the store: the knowledge base, a few settings and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from desk.complaints import ComplaintPolicy
from desk.hours import BusinessHours
from knowledge import KnowledgeBase


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
