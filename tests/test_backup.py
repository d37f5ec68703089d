"""`python -m crm_store backup`: a consistent copy of a live SQLite store that restores to the same data."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from crm_store import Actor, ContentKind, Direction, Store, find_or_create_customer, record_contact
from crm_store.types import utcnow

ROOT = Path(__file__).resolve().parent.parent


def _fill(url: str, contacts: int) -> None:
    store = Store(url)
    store.upgrade()
    with store.transaction() as session:
        customer = find_or_create_customer(
            session,
            channel="telegram",
            external_id="77",
            display_name="王芳",
            username=None,
            language=None,
            now=utcnow(),
        )
        for n in range(contacts):
            record_contact(session, customer, at=utcnow(), direction=Direction.INBOUND, actor=Actor.CUSTOMER,
                           kind=ContentKind.TEXT, text=f"问题 {n}", update_id=n)  # fmt: skip
    store.close()


def _backup(url: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_store", "--database-url", url, "backup", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_backup_restores_to_the_same_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    _fill(url, 250)
    copy = tmp_path / "backups" / "crm-copy.sqlite3"
    done = _backup(url, copy)
    assert done.returncode == 0, done.stderr
    assert "backup →" in done.stdout and not (tmp_path / "backups" / "crm-copy.sqlite3.partial").exists()
    # Restored: the copy opens as a store, upgrades (nothing to do) and holds every contact.
    restored = Store(f"sqlite:///{copy}")
    restored.upgrade()
    with sqlite3.connect(copy) as connection:
        assert connection.execute("select count(*), min(text), max(update_id) from contacts").fetchone() == (
            250, "问题 0", 249
        )  # fmt: skip
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
    restored.close()


def test_a_postgresql_store_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    done = _backup("postgresql+psycopg://postgres@127.0.0.1:5432/test", tmp_path / "x")
    assert done.returncode == 2 and "pg_dump" in done.stderr
