"""`python -m knowledge review`: the learning loop from the command line, for larger reviews.

Reads the same config.toml as the bot (the store holds the candidates, the files hold the entries).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime


def run_review(args: argparse.Namespace) -> int:
    # Imported here: checking or evaluating knowledge files needs no database.
    from app.config import ConfigError, load_settings
    from app.startup import build_context
    from crm_store import Store
    from crm_store.models import Actor
    from crm_store.tickets import Who
    from desk import candidate_phrasings
    from reports.periods import parse_period

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)  # the bot's words for it, not a traceback
        return 1
    store = Store(settings.database.url)
    store.upgrade()
    context = build_context(settings)
    now = datetime.now(UTC)
    who = Who(Actor.STAFF, None, args.user)
    try:
        with store.transaction() as session:
            if args.action == "list":
                print(candidate_phrasings.review_text(session, context, limit=args.limit))
            elif args.action == "unanswered":
                period = parse_period(f"{args.days}d", settings.desk.zone)
                print(candidate_phrasings.unanswered_text(session, period, limit=args.limit))
            else:
                if args.id is None:
                    raise SystemExit(f"usage: python -m knowledge review {args.action} ID")
                accept = args.action == "accept"
                text, _changed = candidate_phrasings.decide(
                    session, context, settings.knowledge.paths, args.id, accept, who, now
                )
                print(text)
    except candidate_phrasings.DecisionFailed as exc:
        print(f"error: {exc}")
        return 1
    finally:
        store.close()
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("review", help="list, accept or reject learned phrasings; list unanswered questions")
    parser.add_argument("action", choices=["list", "accept", "reject", "unanswered"], nargs="?", default="list")
    parser.add_argument("id", type=int, nargs="?", help="candidate number (for accept and reject)")
    parser.add_argument("--config", help="config.toml (default ./config.toml)")
    parser.add_argument("--days", type=int, default=30, help="unanswered: how many days back (default 30)")
    parser.add_argument("--limit", type=int, default=50, help="how many lines (default 50)")
    parser.add_argument("--user", default="cli", help="name recorded as the reviewer")
    parser.set_defaults(handler=run_review)
