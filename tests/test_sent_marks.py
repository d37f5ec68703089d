"""Marks of sent messages written together (desk/sent_marks.py): batched under load, never lost to one bad row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from desk import outbox
from desk.messages import Envelope
from desk.outbox import Delivered
from desk.sent_marks import SentMarks

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def delivered(outbox_id: int) -> Delivered:
    envelope = Envelope(id=outbox_id, lane="customer", kind="reply", chat_id=7, customer_id=1, contact_id=None,
                        payload={"text": "好的"}, created_at=AT)  # fmt: skip
    return Delivered(envelope, message_id=1000 + outbox_id, attempts=1, at=AT)


class Store:
    """Stands in for Desk.run: records each transaction's marks; refuses ones holding a poisoned id."""

    def __init__(self, poisoned: frozenset[int] = frozenset(), pause: float = 0.0) -> None:
        self.transactions: list[list[int]] = []
        self.poisoned, self.pause = poisoned, pause

    async def run(self, work: Any, marks: list[Delivered], staff_chat: int) -> None:
        assert work is outbox.record_delivered and staff_chat == -100
        await asyncio.sleep(self.pause)
        ids = [mark.envelope.id for mark in marks]
        if self.poisoned & set(ids):
            raise RuntimeError("constraint failed")
        self.transactions.append(ids)


async def test_a_lone_mark_is_written_at_once_in_its_own_transaction() -> None:
    store = Store()
    marks = SentMarks(store.run, lambda: -100)
    await marks.record(delivered(1))
    assert store.transactions == [[1]]


async def test_marks_arriving_during_a_write_share_the_next_transaction() -> None:
    store = Store(pause=0.05)
    marks = SentMarks(store.run, lambda: -100)
    first = asyncio.create_task(marks.record(delivered(1)))
    await asyncio.sleep(0.01)  # its transaction is under way
    await asyncio.gather(first, *(marks.record(delivered(i)) for i in range(2, 51)))
    assert store.transactions == [[1], list(range(2, 51))]


async def test_one_bad_mark_fails_alone_and_the_others_are_written() -> None:
    store = Store(poisoned=frozenset({5}), pause=0.01)
    marks = SentMarks(store.run, lambda: -100)
    results = await asyncio.gather(*(marks.record(delivered(i)) for i in range(1, 11)), return_exceptions=True)
    failed = [i for i, result in zip(range(1, 11), results, strict=True) if isinstance(result, Exception)]
    assert failed == [5]
    written = sorted(i for ids in store.transactions for i in ids)
    assert written == [i for i in range(1, 11) if i != 5]


async def test_a_cancelled_lane_still_gets_its_mark_written() -> None:
    store = Store(pause=0.05)
    marks = SentMarks(store.run, lambda: -100)
    lane = asyncio.create_task(marks.record(delivered(1)))
    await asyncio.sleep(0.01)
    lane.cancel()
    with pytest.raises(asyncio.CancelledError):
        await lane
    await marks.flushed()
    assert store.transactions == [[1]]
