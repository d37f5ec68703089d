"""Backups of the store while the bot runs: SQLite's online backup API (a consistent copy, no stop needed).

PostgreSQL has its own tool for this (`pg_dump`), which the README shows; nothing here imitates it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The store cannot be backed up this way; the message says what to do instead."""


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            f"the store is {parsed.get_backend_name()}, not SQLite: use pg_dump (see README, 'Running in production')"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(parsed.database)


def backup_sqlite(url: str, out: Path) -> int:
    """Copy the live database to `out` page by page (writers may go on meanwhile); the copy's size in bytes."""
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with sqlite3.connect(source_path) as source, sqlite3.connect(partial) as target:
        source.backup(target, pages=1024)
    partial.replace(out)  # a failed backup never leaves a half file under the real name
    return out.stat().st_size
