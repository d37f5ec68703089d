"""An append-only file of inbound contacts the store could not take, replayed when it is back.

A database outage must not lose a customer's message or complaint (DOMAIN.md: 登记制度, none is lost).
Each line is one `Inbound` as JSON, flushed and fsynced before the customer is answered. Replaying is
safe to repeat: a contact with an update id is recorded once, whatever happens in between.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from crm_store import ContentKind
from desk.messages import CustomerRef, Inbound

ACTIVE = "inbound.jsonl"
REPLAYING_PREFIX = "replaying-"


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def append(self, inbound: Inbound) -> None:
        line = json.dumps(_to_json(inbound), ensure_ascii=False) + "\n"
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with (self.folder / ACTIVE).open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())

    def pending(self) -> int:
        return sum(1 for path in self._files() for _ in path.open(encoding="utf-8"))

    def batches(self) -> list[Path]:
        """Files to replay, oldest first; the active file is renamed so new appends go to a fresh one."""
        with self._lock:
            active = self.folder / ACTIVE
            if active.exists() and active.stat().st_size:
                active.rename(self.folder / f"{REPLAYING_PREFIX}{time.time_ns()}.jsonl")
            return sorted(self.folder.glob(f"{REPLAYING_PREFIX}*.jsonl")) if self.folder.exists() else []

    @staticmethod
    def read(batch: Path) -> Iterator[Inbound]:
        with batch.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield _from_json(json.loads(line))

    @staticmethod
    def keep_from(batch: Path, done: int) -> None:
        """Drop the first `done` lines of a batch (replayed); delete it when nothing is left."""
        lines = batch.read_text(encoding="utf-8").splitlines(keepends=True)[done:]
        if not any(line.strip() for line in lines):
            batch.unlink()
            return
        temporary = batch.with_suffix(".tmp")
        temporary.write_text("".join(lines), encoding="utf-8")
        os.replace(temporary, batch)

    def erase(self, channel: str, external_id: str) -> int:
        """Drop what one customer wrote (erasure); how many contacts went. Not while a replay runs."""
        erased = 0
        with self._lock:
            for path in self._files():
                lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
                kept = [line for line in lines if not _written_by(line, channel, external_id)]
                if len(kept) == len(lines):
                    continue
                erased += len(lines) - len(kept)
                temporary = path.with_suffix(".tmp")
                temporary.write_text("".join(kept), encoding="utf-8")
                os.replace(temporary, path)
        return erased

    def _files(self) -> list[Path]:
        if not self.folder.exists():
            return []
        return sorted(self.folder.glob(f"{REPLAYING_PREFIX}*.jsonl")) + [
            path for path in [self.folder / ACTIVE] if path.exists()
        ]


def _written_by(line: str, channel: str, external_id: str) -> bool:
    if not line.strip():
        return False
    customer = json.loads(line).get("customer", {})
    return customer.get("channel") == channel and customer.get("external_id") == external_id


def _to_json(inbound: Inbound) -> dict[str, object]:
    data = asdict(inbound)
    data["sent_at"] = inbound.sent_at.isoformat()
    data["kind"] = inbound.kind.value
    return data


def _from_json(data: dict[str, object]) -> Inbound:
    customer = CustomerRef(**data.pop("customer"))  # type: ignore[arg-type]
    sent_at = datetime.fromisoformat(str(data.pop("sent_at")))
    kind = ContentKind(data.pop("kind"))
    return Inbound(customer=customer, kind=kind, sent_at=sent_at, **data)  # type: ignore[arg-type]
