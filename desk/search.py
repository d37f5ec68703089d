"""/search WORDS [period]: customers' and staff messages that contain every word, newest first.

The words are matched by the store's text index (`crm_store.search`). A last word that reads as a
period (7d, 30天, 2026-11, 本月…) limits the search to it; otherwise everything is searched.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_store import Session
from crm_store.search import Hit, search_contacts
from desk.context import DeskContext
from desk.dates import local_time
from reports.periods import PeriodError, parse_period

USAGE = "用法：/search 关键词 [关键词…] [时间段，如 7d、30d、本月、2026-11]"
LIMIT = 20
SNIPPET = 70
MAX_TERMS = 5


@dataclass(frozen=True)
class Found:
    """What a search asked for and what it found, for any channel to render."""

    words: tuple[str, ...]
    # The period's label when the last word was one, else None (everything was searched).
    period: str | None
    hits: list[Hit]
    limit: int

    @property
    def more(self) -> bool:
        """The limit was reached: there may be older hits not shown."""
        return len(self.hits) >= self.limit


def search(session: Session, ctx: DeskContext, argument: str, limit: int = LIMIT) -> Found:
    """Messages containing every word of `argument`, newest first; a last word that is a period limits them."""
    words = argument.split()
    period = None
    if len(words) > 1:
        try:
            period = parse_period(words[-1], ctx.zone, today=ctx.clock().astimezone(ctx.zone).date())
            words = words[:-1]
        except PeriodError:
            period = None
    words = words[:MAX_TERMS]
    hits = search_contacts(
        session,
        words,
        since=period.start if period else None,
        until=period.end if period else None,
        limit=limit,
    )
    return Found(tuple(words), period.label if period else None, hits, limit)


def search_text(session: Session, ctx: DeskContext, argument: str, limit: int = LIMIT) -> str:
    if not argument.split():
        return USAGE
    found = search(session, ctx, argument, limit)
    words = list(found.words)
    scope = f"（{found.period}）" if found.period else ""
    if not found.hits:
        return f"🔎 没有找到包含「{' '.join(words)}」的消息{scope}。"
    more = f"，只显示最新的 {limit} 条" if found.more else ""
    lines = [f"🔎 「{' '.join(words)}」{scope}：{len(found.hits)} 条，最新在前{more}"]
    for hit in found.hits:
        lines.append(_line(hit, words, ctx))
    return "\n".join(lines)


def _line(hit: Hit, words: list[str], ctx: DeskContext) -> str:
    who = f"客户 {hit.customer_name}" if hit.direction == "in" else (hit.staff_name or "机器人")
    arrow = "←" if hit.direction == "in" else "→"
    ticket = f" · {hit.ticket_number}" if hit.ticket_number else ""
    line = (
        f"{local_time(hit.at, ctx.zone)} {arrow} {who} · 客户#{hit.customer_id} {hit.customer_name}{ticket}\n"
        f"   {snippet(hit.text, words[0])}"
    )
    link = topic_link(hit.staff_chat_id, hit.thread_id, hit.staff_message_id)
    return f"{line}\n   {link}" if link else line


def snippet(text: str, word: str, width: int = SNIPPET) -> str:
    """The part of `text` around the first occurrence of `word`, on one line."""
    flat = " ".join(text.split())
    at = flat.lower().find(word.lower())
    start = max(0, at - width // 3) if at >= 0 else 0
    cut = flat[start : start + width]
    return ("…" if start > 0 else "") + cut + ("…" if start + width < len(flat) else "")


def topic_link(chat_id: int | None, thread_id: int | None, message_id: int | None) -> str | None:
    """t.me link to a message in a forum topic of a supergroup (ids -100…); None when there is none."""
    if chat_id is None or thread_id is None:
        return None
    digits = str(chat_id)
    if not digits.startswith("-100"):
        return None
    internal = digits.removeprefix("-100")
    return (
        f"https://t.me/c/{internal}/{thread_id}/{message_id}"
        if message_id
        else f"https://t.me/c/{internal}/{thread_id}"
    )
