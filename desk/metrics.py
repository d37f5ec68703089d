"""What the desk counts for operators (Prometheus): volumes, latencies, failures. Never a customer's words or id.

Counters and histograms are process-wide (one registry); figures that live in the store (open tickets,
breaches, what the outbox still owes) are read when /metrics is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_IN = Counter("desk_messages_in", "Customer contacts handled, by content kind", ["kind"], registry=REGISTRY)
ANSWERS = Counter(
    "desk_answers", "Decisions on customer contacts, by intent and match tier", ["intent", "tier"], registry=REGISTRY
)
SPOOLED = Counter("desk_spooled", "Contacts kept in the spool while the store was down", registry=REGISTRY)
HANDLING = Histogram(
    "desk_handling_seconds",
    "From a customer's message reaching the desk to its answer being queued",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
DELIVERY = Histogram(
    "desk_delivery_seconds",
    "From a message being queued to Telegram accepting it, by lane",
    ["lane"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
    registry=REGISTRY,
)
SEND_ERRORS = Counter(
    "desk_send_errors", "Sends Telegram did not accept, by lane and kind of error", ["lane", "kind"], registry=REGISTRY
)
RETRIES = Counter(
    "desk_delivery_retries", "Sends tried again after a passing failure, by lane", ["lane"], registry=REGISTRY
)
UNDELIVERED = Counter(
    "desk_undelivered",
    "Messages given up on (refused, blocked, retries exhausted), by lane",
    ["lane"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter("desk_dead_letters", "Updates kept as dead letters (unreadable or failing)", registry=REGISTRY)

OPEN_TICKETS = Gauge("desk_open_tickets", "Tickets not yet resolved or closed", registry=REGISTRY)
BREACHED_TICKETS = Gauge("desk_breached_open_tickets", "Open tickets past their promised deadline", registry=REGISTRY)
OUTBOX_PENDING = Gauge(
    "desk_outbox_pending", "Messages owed, not yet accepted by Telegram, by lane", ["lane"], registry=REGISTRY
)
SPOOL_DEPTH = Gauge("desk_spool_depth", "Contacts waiting in the spool for the store", registry=REGISTRY)
KNOWLEDGE_ENTRIES = Gauge("desk_knowledge_entries", "Entries in the loaded knowledge base", registry=REGISTRY)
