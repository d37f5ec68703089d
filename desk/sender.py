"""The outbox's sender: drains what the desk owes through a channel, lane by lane.

Each customer chat is its own little queue (answers arrive in order, one customer's trouble holds up
no one else); the staff group is one slow queue, posted at the pace Telegram allows, with what waits
for one customer joined into as few posts as possible. A row is marked sent only once the channel
answered with its message id; after a crash, what is still pending is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from desk import metrics, outbox
from desk.channel import DELETE_AT_ONCE, Channel, DeliveryError, TopicGone, Unreachable
from desk.messages import Envelope
from desk.outbox import COPY, CUSTOMER, EDIT, ERASE, RELAY, STAFF, TOPIC, Delivered, Post
from desk.sent_marks import SentMarks

log = logging.getLogger(__name__)
T = TypeVar("T")
Run = Callable[..., Awaitable[Any]]
# Staff posts that waited longer than this are behind: what waits for one customer is joined up.
BEHIND_SECONDS = 5.0
# The shortest time between two reads of the store for work (several workers wake the sender constantly).
PICKUP_GAP = 0.05
# A second more than Telegram's minute: a post counted by us at t may reach Telegram a little later.
WINDOW = 61.0


@dataclass(frozen=True)
class SenderPolicy:
    # Tries for one customer message before it is recorded as undelivered (transient failures only).
    customer_attempts: int = 6
    backoff: float = 0.5
    max_backoff: float = 60.0
    # What the store still owes but this process does not hold (e.g. a failed write) is looked for this often.
    sweep_seconds: float = 30.0
    # Calls into the staff group per minute (Telegram allows about 20); 0: not paced here.
    staff_per_minute: float = 0.0
    # Several workers share the store: what they queue reaches this sender only through it, so even this
    # process's own messages are taken from the store, in its order (one chat's replies in sequence).
    from_store: bool = False


class Pacer:
    """At most `per_minute` calls in any 60 s window: a burst never meets Telegram's flood control.

    A sliding window, not a token bucket: a bucket lets its whole capacity out at once, which a group's
    limit counted over the last minute refuses.
    """

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._calls: deque[float] = deque()

    def wait_needed(self) -> float:
        """Seconds until the next call may go (0: now)."""
        if self.per_minute <= 0:
            return 0.0
        now = self._clock()
        while self._calls and now - self._calls[0] >= WINDOW:
            self._calls.popleft()
        if len(self._calls) < self.per_minute:
            return 0.0
        return WINDOW - (now - self._calls[0])

    def record(self) -> None:
        if self.per_minute > 0:
            self._calls.append(self._clock())


class Sender:
    def __init__(
        self,
        run: Run,
        channel: Channel,
        clock: Callable[[], datetime],
        zone: ZoneInfo,
        policy: SenderPolicy | None = None,
    ) -> None:
        self._run = run
        self.channel = channel
        self._clock = clock
        self._zone = zone
        self.policy = policy or SenderPolicy()
        self._known: set[int] = set()
        self._chats: dict[int, deque[Envelope]] = {}
        self._chat_tasks: dict[int, asyncio.Task[None]] = {}
        self._staff: deque[Envelope] = deque()
        self._staff_wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        # Only the lease holder sends (several workers may share one store); the others leave rows to it.
        self.active = False
        # Ids settled while a pick-up's read was under way: that read may still show them as pending.
        self._settled_during: list[set[int]] = []
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()
        self._pacer = Pacer(self.policy.staff_per_minute)
        self.staff_posts = 0
        # Held while one customer's posts go to the staff group: an erasure waits, so nothing it deletes
        # is posted (or a topic opened for it) behind its back.
        self.staff_batch = asyncio.Lock()
        self._marks = SentMarks(run, self._staff_chat)

    # -- taking work -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Send what an earlier run (or another worker) left pending, then keep the lanes going."""
        self.active = True
        self._tasks.append(asyncio.create_task(self._drain_staff(), name="outbox-staff"))
        self._tasks.append(asyncio.create_task(self._sweep(), name="outbox-sweep"))
        await self._pick_up()

    def submit(self, envelopes: Iterable[Envelope]) -> None:
        """Queue envelopes already in the store; ones this sender holds already are skipped.

        A standing-by sender takes nothing: the rows are safe in the store, and the lease holder sends them.
        """
        if not self.active or self._stopping:
            return
        if self.policy.from_store:
            self.wake()
            return
        self._take(envelopes)

    def wake(self) -> None:
        """Look in the store now (new rows were queued, here or by another worker)."""
        self._wake.set()

    def _take(self, envelopes: Iterable[Envelope]) -> None:
        for envelope in envelopes:
            if envelope.id in self._known:
                continue
            if envelope.lane == CUSTOMER:
                self._known.add(envelope.id)
                self._chats.setdefault(envelope.chat_id or 0, deque()).append(envelope)
                self._ensure_chat_task(envelope.chat_id or 0)
            elif self.channel.has_staff:
                self._known.add(envelope.id)
                self._staff.append(envelope)
                self._staff_wake.set()

    async def idle(self) -> None:
        """Until every customer message submitted so far was sent or given up (the console waits for this)."""
        while self._chat_tasks:
            await asyncio.gather(*list(self._chat_tasks.values()), return_exceptions=True)

    @property
    def staff_backlog(self) -> int:
        return len(self._staff)

    async def stop(self, timeout: float) -> None:
        """Finish what is in hand within `timeout`; what is not sent stays pending for the next start."""
        self._stopping = True
        self._stop_event.set()
        self._staff_wake.set()
        self._wake.set()
        tasks = [*self._chat_tasks.values(), *self._tasks]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        # Messages that went out are recorded as sent even when their lane was cut short.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._marks.flushed(), timeout)
        if self._known:
            log.warning("outbox: %d messages left pending for the next start", len(self._known))

    async def _pick_up(self) -> None:
        settled: set[int] = set()
        self._settled_during.append(settled)
        try:
            owed = await self._run(outbox.owed, skip=frozenset(self._known))
        except Exception as exc:  # the store may be down; the sweep tries again
            log.error("outbox: pending messages not read (%s)", exc.__class__.__name__)
            return
        finally:
            self._settled_during.remove(settled)
        # A row sent while the read ran is pending in what it returned: it must not go out twice.
        fresh = [envelope for envelope in owed if envelope.id not in self._known and envelope.id not in settled]
        if fresh and not self.policy.from_store:
            log.info("outbox: %d pending messages picked up", len(fresh))
        self._take(fresh)

    def _forget(self, envelope_id: int) -> None:
        """This sender no longer holds the row (settled, or left for a later pick-up)."""
        self._known.discard(envelope_id)
        for settled in self._settled_during:
            settled.add(envelope_id)

    async def _sweep(self) -> None:
        with contextlib.suppress(Stopping):
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.policy.sweep_seconds)
                if self._stopping:
                    raise Stopping
                self._wake.clear()  # before reading: rows queued during the read wake the next round
                await self._pick_up()
                # Under load the wake-ups never stop: one read per gap takes all that came meanwhile.
                await self._pause(PICKUP_GAP)

    # -- the customer lane -------------------------------------------------------------------------

    def _ensure_chat_task(self, chat_id: int) -> None:
        if chat_id not in self._chat_tasks and not self._stopping:
            self._chat_tasks[chat_id] = asyncio.create_task(self._drain_chat(chat_id), name=f"outbox-chat-{chat_id}")

    async def _drain_chat(self, chat_id: int) -> None:
        queue = self._chats[chat_id]
        try:
            while queue and not self._stopping:
                envelope = queue[0]
                try:
                    await self._deliver(envelope)
                except Stopping:
                    break
                except Exception as exc:  # e.g. the store went down: the row stays pending, the sweep retries
                    log.error("outbox %s: not settled (%s)", envelope.id, exc.__class__.__name__)
                queue.popleft()
                self._forget(envelope.id)
        finally:
            if not queue or self._stopping:
                self._chats.pop(chat_id, None)
                for envelope in queue:
                    self._forget(envelope.id)
            self._chat_tasks.pop(chat_id, None)

    async def _deliver(self, envelope: Envelope) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                message_id = await self._send_to_customer(envelope)
            except DeliveryError as exc:
                metrics.SEND_ERRORS.labels(CUSTOMER, exc.reason.split(":")[0]).inc()
                if exc.final or attempt >= self.policy.customer_attempts:
                    await self._refused(envelope, exc, attempt)
                    return
                metrics.RETRIES.labels(CUSTOMER).inc()
                log.info("outbox %s: try %d failed (%s), retrying", envelope.id, attempt, exc.reason)
                await self._pause(self._delay(attempt, exc.retry_after))
                continue
            await self._sent(envelope, message_id, attempt)
            return

    async def _send_to_customer(self, envelope: Envelope) -> int:
        chat_id = envelope.chat_id or 0
        if envelope.kind == RELAY:
            source = envelope.payload
            return await self.channel.copy_to_customer(
                chat_id, source["from_chat"], source["message_id"], source.get("reply_to")
            )
        if envelope.kind == EDIT:
            source = envelope.payload
            return await self.channel.edit_for_customer(
                chat_id, source["message_id"], source["text"], caption=bool(source.get("caption"))
            )
        attached = envelope.payload.get("file")
        if attached:
            content = attached["content"].encode("utf-8")
            return await self.channel.send_document(chat_id, attached["name"], content, envelope.payload["text"])
        return await self.channel.send_reply(chat_id, envelope.reply)

    async def _refused(self, envelope: Envelope, exc: DeliveryError, attempts: int) -> None:
        metrics.UNDELIVERED.labels(envelope.lane).inc()
        reason = "blocked" if isinstance(exc, Unreachable) else exc.reason
        log.warning("outbox %s to chat %s not delivered: %s", envelope.id, envelope.chat_id, reason)
        notices = await self._run(
            outbox.record_refused,
            envelope,
            reason,
            attempts,
            unreachable=isinstance(exc, Unreachable),
            now=self._clock(),
            staff=self.channel.has_staff,
        )
        self.submit(notices)

    async def _sent(self, envelope: Envelope, message_id: int | None, attempts: int) -> None:
        now = self._clock()
        metrics.DELIVERY.labels(envelope.lane).observe(max(0.0, (now - envelope.created_at).total_seconds()))
        await self._marks.record(Delivered(envelope, message_id, attempts, now))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        return outbox.retry_delay(attempt, retry_after, base=self.policy.backoff, cap=self.policy.max_backoff)

    def _staff_chat(self) -> int:
        return int(getattr(self.channel, "staff_chat_id", 0) or 0)

    # -- the staff lane ----------------------------------------------------------------------------

    async def _drain_staff(self) -> None:
        while not self._stopping:
            if not self._staff:
                self._staff_wake.clear()
                await self._staff_wake.wait()
                continue
            batch = self._take_batch()
            try:
                async with self.staff_batch:
                    await self._post_batch(batch)
            except Stopping:
                return
            except Exception as exc:  # the rows stay pending; the sweep brings them back
                log.error("outbox: staff posts not settled (%s)", exc.__class__.__name__)
            finally:
                for envelope in batch:
                    self._forget(envelope.id)

    def _take_batch(self) -> list[Envelope]:
        """The oldest waiting envelope and everything else waiting for the same customer's topic."""
        first = self._staff.popleft()
        if first.customer_id is None:
            return [first]
        batch, rest = [first], deque()
        for envelope in self._staff:
            (batch if envelope.customer_id == first.customer_id else rest).append(envelope)
        self._staff = rest
        return batch

    async def _post_batch(self, batch: list[Envelope]) -> None:
        if batch[0].kind == ERASE:  # carries no customer_id, so it is always alone in its batch
            await self._erase_topic(batch[0])
            return
        customer_id = batch[0].customer_id
        # What waited in memory for an erased customer is gone from the store: it is not posted.
        remaining = await self._run(outbox.still_owed, batch)
        while remaining:
            now = self._clock()
            # Other customers waiting, or this waited already: the group is behind its limit, so post less.
            waited = (now - remaining[0].created_at).total_seconds()
            behind = (
                waited > BEHIND_SECONDS
                or self._pacer.wait_needed() > 0
                or any(e.customer_id != customer_id for e in self._staff)
            )
            thread_id, card = await self._topic(customer_id, remaining)
            late = outbox.late_note(remaining[0].created_at, now)
            posts = outbox.plan_posts(card, remaining, late, coalesce=behind)
            try:
                for post in posts:
                    message_id = await self._post(thread_id, post)
                    if card is not None and customer_id is not None and message_id is not None:
                        # The first post carries the card: kept, for an erasure that cannot delete the topic.
                        await self._run(outbox.record_card, customer_id, message_id)
                        card = None
                    remaining = [e for e in remaining if e not in post.envelopes]
            except TopicGone:
                # Someone deleted the topic: forget it and open a new one (with a fresh card) for the rest.
                assert customer_id is not None
                await self._run(outbox.forget_topic, customer_id)

    async def _topic(self, customer_id: int | None, batch: list[Envelope]) -> tuple[int | None, str | None]:
        """The customer's topic (opened, with their card, when a ticket needs one); None: the general topic."""
        if customer_id is None:
            return None, None
        needs_topic = any(envelope.kind in (TOPIC, COPY) for envelope in batch)
        thread_id, opening = await self._run(outbox.topic_or_opening, customer_id, self._zone, open_one=needs_topic)
        if opening is None:
            return thread_id, None
        name, card = opening
        try:
            opened, _ = await self._keep_trying(lambda: self.channel.open_topic(name))
        except TopicGone:
            raise
        except DeliveryError as exc:
            # E.g. the group has no topics enabled: staff still get everything, in the general topic.
            log.warning("outbox: no topic opened for customer %s (%s)", customer_id, exc.reason)
            return None, card
        linked = await self._run(outbox.link_topic, customer_id, self._staff_chat(), opened, self._clock())
        return linked, card if linked == opened else None

    async def _post(self, thread_id: int | None, post: Post) -> int | None:
        if post.copy is not None:
            source = post.copy.payload
            assert thread_id is not None
            send = lambda: self.channel.copy_to_staff(thread_id, source["from_chat"], source["message_id"])  # noqa: E731
        else:
            send = lambda: self.channel.post_to_staff(thread_id, post.text or "")  # noqa: E731
        try:
            message_id, attempts = await self._keep_trying(send)
        except TopicGone:
            raise
        except DeliveryError as exc:  # refused for good (e.g. the message to copy was deleted)
            metrics.UNDELIVERED.labels(STAFF).inc(len(post.envelopes))
            for envelope in post.envelopes:
                await self._run(
                    outbox.record_refused, envelope, exc.reason, 1, unreachable=False, now=self._clock(), staff=True
                )
            return None
        self.staff_posts += 1
        now = self._clock()
        for envelope in post.envelopes:
            metrics.DELIVERY.labels(STAFF).observe(max(0.0, (now - envelope.created_at).total_seconds()))
        if post.envelopes:
            await self._run(
                outbox.record_posted, post.envelopes, message_id, attempts, self._clock(), self._staff_chat()
            )
        return message_id

    async def _erase_topic(self, envelope: Envelope) -> None:
        """An erased customer leaves the staff group: their topic goes, then their posts elsewhere.

        Telegram may refuse to delete a topic (the bot lacks the right): it is renamed to a neutral name
        and what we know was posted in it is deleted in batches. A refusal never undoes the erasure in the store.
        """
        plan = envelope.payload
        thread_id = plan.get("thread_id")
        leftovers = list(plan.get("elsewhere", []))
        if thread_id is not None and not await self._try(lambda: self.channel.delete_topic(thread_id)):
            await self._try(lambda: self.channel.rename_topic(thread_id, plan["name"]))
            leftovers = list(plan.get("in_topic", [])) + leftovers
        # A few calls, not one per message: deletions count against the group's ~20 requests a minute too.
        for start in range(0, len(leftovers), DELETE_AT_ONCE):
            chunk = leftovers[start : start + DELETE_AT_ONCE]
            await self._try(lambda chunk=chunk: self.channel.delete_staff_messages(chunk))
        await self._run(outbox.record_sent, envelope, None, 1, self._clock(), self._staff_chat())

    async def _try(self, call: Callable[[], Awaitable[object]]) -> bool:
        """Retried while Telegram is busy; False once it refuses for good (already gone, no right)."""
        try:
            await self._keep_trying(call)
        except DeliveryError as exc:
            log.info("outbox: staff group clean-up step refused (%s)", exc.reason)
            return False
        return True

    async def _keep_trying(self, send: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        """Staff must see every ticket: transient failures are retried until they pass (or we stop)."""
        attempt = 0
        while True:
            attempt += 1
            while wait := self._pacer.wait_needed():
                await self._pause(wait)
            self._pacer.record()
            try:
                return await send(), attempt
            except DeliveryError as exc:
                metrics.SEND_ERRORS.labels(STAFF, exc.reason.split(":")[0]).inc()
                if exc.final:
                    raise
                metrics.RETRIES.labels(STAFF).inc()
                log.info("outbox: staff post try %d failed (%s), retrying", attempt, exc.reason)
                await self._pause(self._delay(attempt, exc.retry_after))

    async def _pause(self, seconds: float) -> None:
        """Wait before a retry; a stop cuts the wait short and leaves the message pending."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)
        if self._stopping:
            raise Stopping


class Stopping(Exception):
    """The sender is stopping: what was being sent stays pending in the store."""
