"""Building the desk from settings: open and upgrade the store, load the knowledge base, warm jieba up."""

from __future__ import annotations

import logging

from crm_store import Store
from crm_store.types import utcnow
from desk.config import Settings
from desk.conversation import DeskContext
from desk.service import Desk
from knowledge import KnowledgeBase, warm_up

log = logging.getLogger(__name__)


def build_desk(settings: Settings) -> Desk:
    kb = KnowledgeBase.load(settings.knowledge.paths, settings.knowledge.thresholds)
    # jieba builds its dictionary on first use (~0.5 s): do it now, not on a customer's first message.
    warm_up(keyword for entry in kb.entries for keyword in entry.keywords)
    store = Store(settings.database.url, echo=settings.database.echo)
    store.upgrade()
    log.info("knowledge base: %d entries; store: %s", len(kb.entries), store.engine.dialect.name)
    context = DeskContext(
        kb=kb,
        clock=utcnow,
        business_name=settings.desk.business_name,
        default_language=settings.desk.default_language,
        max_text_chars=settings.desk.max_text_chars,
    )
    return Desk(store=store, context=context)
