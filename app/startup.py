"""Building the desk from settings: open and upgrade the store, load the knowledge base, warm jieba up."""

from __future__ import annotations

import gc
import logging
from datetime import timedelta

from app.config import Settings
from crm_store import Store
from crm_store.types import utcnow
from desk.complaints import ComplaintPolicy, DeadlineRules
from desk.context import AssignmentPolicy, DeskContext
from desk.flood import FloodGate
from desk.hours import BusinessHours
from desk.service import Desk
from desk.spool import Spool
from desk.workers import WorkerPolicy
from knowledge import KnowledgeBase, warm_up
from knowledge.canned import CannedReply, load_canned
from knowledge.semantic import default_embedder

log = logging.getLogger(__name__)


def complaint_policy(settings: Settings) -> ComplaintPolicy:
    complaints, sla = settings.complaints, settings.sla
    return ComplaintPolicy(
        lexicon=tuple(complaints.lexicon),
        causes={cause: tuple(words) for cause, words in complaints.causes.items()},
        deadlines=DeadlineRules(
            home_regions=tuple(sla.home_regions),
            home_hours=sla.home_hours,
            other_hours=sla.other_hours,
            unknown_region_is_home=sla.unknown_region == "home",
            tag_hours=dict(sla.tag_hours),
            hours=business_hours(settings) if sla.clock == "working" else None,
        ),
        priority_tags=tuple(settings.tags.priority_tags),
        vip_customers=frozenset(str(user_id) for user_id in settings.tags.vip_customers),
        reopen_after_resolution=complaints.after_resolution == "reopen",
        reopen_days=complaints.reopen_days,
        low_score=complaints.low_score,
        repeat_count=complaints.repeat_count,
        repeat_days=complaints.repeat_days,
        new_customer_days=complaints.new_customer_days,
        remind_before=timedelta(minutes=sla.remind_before_minutes),
        ack_every=timedelta(minutes=complaints.ack_minutes),
    )


def business_hours(settings: Settings) -> BusinessHours:
    return settings.hours.business_hours(settings.desk.zone)


def build_context(settings: Settings) -> DeskContext:
    """The knowledge base (loaded and validated, jieba warmed up) and the settings the decisions read."""
    # jieba builds its dictionary on first use (~0.5 s): do it now, not on a customer's first message.
    warm_up(settings.knowledge.cache_dir)
    semantic = settings.knowledge.semantic
    cache_max = semantic.cache_max_mb << 20
    embedder = default_embedder(semantic.cache_dir, cache_max_bytes=cache_max) if semantic.enabled else None
    if not semantic.enabled:
        log.info("semantic stage off (knowledge.semantic.enabled = false): the matcher works on words alone")
    # Answering starts at once, on words; the semantic stage joins when the passages not cached are embedded.
    kb = KnowledgeBase.load(settings.knowledge.paths, settings.knowledge.thresholds, embedder=embedder, background=True)
    return DeskContext(
        kb=kb,
        clock=utcnow,
        business_name=settings.desk.business_name,
        default_language=settings.desk.default_language,
        max_text_chars=settings.desk.max_text_chars,
        complaints=complaint_policy(settings),
        staff_available=bool(settings.staff_group.chat_id) and settings.telegram.has_token,
        zone=settings.desk.zone,
        hours=business_hours(settings),
        canned=_canned(settings),
        assignment=AssignmentPolicy(
            auto=settings.assignment.auto,
            max_open_per_person=settings.assignment.max_open_per_person,
            staff_ids=frozenset(settings.roles.staff) | frozenset(settings.roles.managers),
            manager_ids=frozenset(settings.roles.managers),
        ),
    )


def _canned(settings: Settings) -> dict[str, CannedReply]:
    """The canned replies file; a shop without one starts with none (managers can add them with /canned)."""
    if not settings.canned.path.exists():
        log.warning("no canned replies file at %s: starting with none", settings.canned.path)
        return {}
    return load_canned(settings.canned.path)


def build_desk(settings: Settings) -> Desk:
    context = build_context(settings)
    store = Store(
        settings.database.url, echo=settings.database.echo, lock_timeout=settings.database.lock_timeout_seconds
    )
    store.upgrade()
    log.info("knowledge base: %d entries; store: %s", len(context.kb.entries), store.engine.dialect.name)
    flood = FloodGate(settings.flood.max_messages, settings.flood.window_seconds)
    # Everything loaded so far lives as long as the process: keep the collector from rescanning it,
    # which otherwise shows up as pauses in customers' reply times.
    gc.collect()
    gc.freeze()
    workers = WorkerPolicy(settings.workers.lease_seconds, settings.workers.pickup_seconds)
    spool = Spool(settings.database.spool_dir)
    return Desk(store=store, context=context, spool=spool, flood=flood, workers=workers)
