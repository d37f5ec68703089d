"""The learning loop: customers' own words become candidate phrasings; managers accept them into the KB.

A customer who picks a suggested entry, or a staff member who links a customer's question to an entry,
teaches the desk a new way to ask. Nothing reaches the knowledge files without a manager's yes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from crm_store import Session
from crm_store import candidate_phrasings as store
from crm_store.models import CandidateStatus, Customer
from crm_store.tickets import Who
from desk.intents import Intent
from knowledge.alternates import LearningError, add_alternate
from knowledge.text import normalise
from reports.conversations import unanswered_questions
from reports.periods import Period

if TYPE_CHECKING:
    from desk.context import DeskContext

# A pick counts for the question asked just before it, not for one from last week.
PICK_WINDOW = timedelta(hours=1)
QUESTION_INTENTS = (Intent.SUGGESTED, Intent.NO_ANSWER, Intent.RELAYED, Intent.COMPLAINT)


def learn_from_pick(session: Session, ctx: DeskContext, customer: Customer, entry_id: str, now: datetime) -> None:
    question = store.last_question(session, customer.id, [Intent.SUGGESTED])
    if question is None or now - question.at > PICK_WINDOW:
        return
    _remember(session, ctx, entry_id, question.text, "pick", now)


def link_last_question(session: Session, ctx: DeskContext, customer: Customer, entry_id: str, now: datetime) -> str:
    """Staff say which entry answers the customer's last question (/link ENTRY_ID in the topic)."""
    entry = ctx.kb.get(entry_id)
    if entry is None:
        return f"没有编号为 {entry_id} 的知识条目。"
    question = store.last_question(session, customer.id, QUESTION_INTENTS)
    if question is None or not question.text.strip():
        return "这位客户还没有可以关联的问题。"
    if not _remember(session, ctx, entry_id, question.text, "staff", now):
        return f"「{question.text}」已经是条目 {entry_id} 的问法。"
    return f"已记录：「{question.text}」→ {entry_id}（{entry.question}），等经理 /review 确认后加入知识库。"


def _remember(session: Session, ctx: DeskContext, entry_id: str, text: str, source: str, now: datetime) -> bool:
    entry = ctx.kb.get(entry_id)
    key = normalise(text)
    if entry is None or not key or any(normalise(p) == key for p in entry.phrasings):
        return False
    return store.record_candidate(session, entry_id, text, key, source, now) is not None


def review_text(session: Session, ctx: DeskContext, limit: int = 20) -> str:
    candidates = store.pending_candidates(session, limit)
    if not candidates:
        return "没有待审核的新问法。No phrasings waiting for review."
    lines = ["待审核的新问法（/accept 编号 加入知识库，/reject 编号 放弃）："]
    for candidate in candidates:
        entry = ctx.kb.get(candidate.entry_id)
        title = entry.question if entry else "（条目已不存在）"
        phrasing = f"#{candidate.id} ×{candidate.count} 「{candidate.phrasing}」"
        lines.append(f"{phrasing} → {candidate.entry_id} {title} [{candidate.source}]")
    return "\n".join(lines)


def decide(
    session: Session,
    ctx: DeskContext,
    kb_paths: Sequence[Path],
    candidate_id: int,
    accept: bool,
    who: Who,
    now: datetime,
) -> tuple[str, bool]:
    """Accept (write into the entry's file) or reject a candidate; (message, the KB files changed)."""
    status = CandidateStatus.ACCEPTED if accept else CandidateStatus.REJECTED
    candidate = store.decide(session, candidate_id, status, who.user_id, who.name, now)
    if candidate is None:
        return f"没有待审核的 #{candidate_id}。", False
    if not accept:
        return f"已放弃 #{candidate_id}「{candidate.phrasing}」。", False
    try:
        path = add_alternate(kb_paths, candidate.entry_id, candidate.phrasing)
    except LearningError as exc:
        raise DecisionFailed(str(exc)) from exc
    return f"已加入 {path.name}：「{candidate.phrasing}」→ {candidate.entry_id}。", True


class DecisionFailed(Exception):
    """Accepting failed (the file could not be written); the store keeps the candidate pending."""


def unanswered(session: Session, period: Period, limit: int = 20) -> list[tuple[str, int]]:
    """Questions the bot could not answer in the period, most frequent first, with how often they came."""
    return unanswered_questions(session, period, limit)


def unanswered_text(session: Session, period: Period, limit: int = 20) -> str:
    rows = unanswered(session, period, limit)
    if not rows:
        return "这段时间没有机器人答不上的问题。"
    lines = ["机器人答不上的问题（最常见的在前，适合补充进知识库）："]
    lines += [f"×{count} {text}" for text, count in rows]
    return "\n".join(lines)
