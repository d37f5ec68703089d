"""The store from the command line: pull interaction logs and reports for managers (bigger pulls than a chat).

python -m crm_store logs 30d intent=no_answer format=xlsx      # → exports/logs_<first>_<last>.xlsx
python -m crm_store logs 2026-11-01..2026-11-15 --out /tmp/pulls
python -m crm_store report 2026-11 --out exports/november         # PNG charts + summary.txt
python -m crm_store backup --out backups/crm-2026-12-03.sqlite3    # SQLite: a consistent copy while the bot runs

Every pull is recorded in the `exports` table (channel "cli", the login name as who).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path

from app.config import ConfigError, Settings, load_settings
from crm_store.backup import BackupError, backup_sqlite
from crm_store.db import Store
from knowledge import KnowledgeError
from knowledge.loader import load_entries
from reports import (
    LOGS_USAGE,
    REPORT_USAGE,
    Requester,
    UsageError,
    export_logs,
    make_report,
    parse_log_args,
    parse_report_args,
)

DEFAULT_OUT = Path("exports")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_store", description="Managers' pulls from the CRM store")
    parser.add_argument("--config", help="path to config.toml (default: ./config.toml)")
    parser.add_argument("--database-url", help="override database.url from the config")
    commands = parser.add_subparsers(dest="command", required=True)
    logs = commands.add_parser("logs", help="contacts as CSV or XLSX", description=LOGS_USAGE,
                               formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    logs.add_argument("words", nargs="*", help="[period] [key=value …], as in the /logs command")
    logs.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the file (default: exports/)")
    report = commands.add_parser("report", help="PNG charts and a text summary", description=REPORT_USAGE,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    report.add_argument("words", nargs="*", help="[period], as in the /report command")
    report.add_argument("--out", type=Path, help="folder for the charts (default: exports/report_<period>)")
    backup = commands.add_parser("backup", help="a consistent copy of a SQLite store, taken while the bot runs")
    backup.add_argument("--out", type=Path, required=True, help="the copy's file")
    args = parser.parse_args(argv)
    try:
        overrides = {"database": {"url": args.database_url}} if args.database_url else {}
        settings = load_settings(args.config, **overrides)
    except ConfigError as exc:
        print(f"crm_store: {exc}", file=sys.stderr)
        return 2
    if args.command == "backup":
        return run_backup(settings.database.url, args.out)
    store = Store(settings.database.url)
    try:
        store.upgrade()
        run = pull_logs if args.command == "logs" else pull_report
        return run(store, settings, args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        store.close()


def run_backup(url: str, out: Path) -> int:
    try:
        size = backup_sqlite(url, out)
    except BackupError as exc:
        print(f"crm_store: {exc}", file=sys.stderr)
        return 2
    print(f"backup → {out} ({size / 1e6:.1f} MB); restore: stop the bot and put it in place of the database file")
    return 0


def pull_logs(store: Store, settings: Settings, args: argparse.Namespace) -> int:
    zone = settings.desk.zone
    log_filter = parse_log_args(args.words, zone)
    started = time.perf_counter()
    export = export_logs(store, log_filter, zone=zone, folder=args.out, requester=_requester())
    size = export.path.stat().st_size / 1e6
    print(
        f"{export.rows:,} rows → {export.path} ({size:.1f} MB) in {time.perf_counter() - started:.1f} s;"
        f" recorded as export #{export.export_id}"
    )
    return 0


def pull_report(store: Store, settings: Settings, args: argparse.Namespace) -> int:
    period = parse_report_args(args.words, settings.desk.zone)
    folder = args.out or DEFAULT_OUT / f"report_{period.first}_{period.last}"
    result = make_report(store, period, folder=folder, requester=_requester(), entry_title=_entry_titles(settings))
    print(result.summary)
    print(f"\n{len(result.charts)} charts and summary.txt → {folder}; recorded as export #{result.export_id}")
    return 0


def _entry_titles(settings: Settings):  # type: ignore[no-untyped-def]
    """Entry id → its question, so charts say 怎么退货？ and not return-how; ids alone if the KB cannot load."""
    try:
        entries, _files = load_entries(settings.knowledge.paths)
    except KnowledgeError as exc:
        print(f"crm_store: knowledge base not loaded, showing entry ids ({exc.problems[0]})", file=sys.stderr)
        return lambda _id: None
    return {entry.id: entry.question for entry in entries}.get


def _requester() -> Requester:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        name = None
    return Requester("cli", name=name)


if __name__ == "__main__":
    sys.exit(main())
