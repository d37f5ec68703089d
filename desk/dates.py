"""Times as customers and staff read them: in the business's time zone, in their language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_time(moment: datetime, zone: ZoneInfo, language: str = "zh") -> str:
    local = moment.astimezone(zone)
    if language == "zh":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%d %b %H:%M}"
