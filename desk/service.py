"""The desk as the channels see it: async calls that run each unit of work off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from crm_store import STORE_DOWN, Session, Store
from crm_store.dead_letters import record_dead_letter
from crm_store.leases import Lease, StoreInUse, serialise_customer
from crm_store.tickets import Who
from crm_store.wakeups import OutboxListener
from desk import deadlines, metrics, outbox, privacy
from desk.channel import Channel, DeliveryError
from desk.context import DeskContext
from desk.conversation import handle_inbound
from desk.flood import FloodGate, Flow
from desk.health import StoreFigures, store_figures
from desk.language import reply_language
from desk.messages import Envelope, Inbound, Outcome, Reply
from desk.sender import Sender, SenderPolicy
from desk.spool import Spool
from desk.texts import say
from desk.workers import WorkerPolicy
from knowledge import KnowledgeBase, KnowledgeError, Thresholds
from knowledge.advice import advise
from knowledge.semantic import Embedder

T = TypeVar("T")
log = logging.getLogger(__name__)
# A reload's problems and advice shown at most (the rest counted).
MAX_PROBLEMS_SHOWN = 20


def _load_knowledge(
    paths: Sequence[Path], thresholds: Thresholds, embedder: Embedder | None = None
) -> tuple[KnowledgeBase, list[str]]:
    """The knowledge base (its semantic stage embedding what changed in the background), and advice on
    entries that load but will match badly."""
    kb = KnowledgeBase.load(paths, thresholds, embedder=embedder, background=True)
    return kb, [str(item) for item in advise(kb.entries, kb.matcher.segmenter, kb.origins)]


class Desk:
    """Built once at start-up; shared by every channel adapter."""

    def __init__(
        self,
        *,
        store: Store,
        context: DeskContext,
        spool: Spool | None = None,
        flood: FloodGate | None = None,
        workers: WorkerPolicy | None = None,
    ) -> None:
        self.store = store
        self.context = context
        self.spool = spool
        self.flood = flood or FloodGate()
        # SQLite has one writer at a time: one store thread avoids lock contention; PostgreSQL takes more.
        threads = 1 if store.is_sqlite else 4
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")
        self.sender: Sender | None = None
        self.workers = workers or WorkerPolicy()
        # Several workers on one PostgreSQL: the lease holder sends the outbox and runs the sweeps.
        self.lease = Lease(store.engine)
        self._lease_task: asyncio.Task[None] | None = None
        self._listener: OutboxListener | None = None
        self._channel: Channel | None = None
        self._policy: SenderPolicy | None = None
        # While contacts wait in the spool, newer ones of the same chats must not overtake them.
        self._replaying = asyncio.Lock()
        self._spool_waiting = spool is not None and spool.pending() > 0

    def claim_store(self) -> None:
        """A SQLite database serves one process: a second one is refused here, before it touches anything."""
        if self.store.is_sqlite and not self.lease.acquire():
            raise StoreInUse(
                f"another process is running the desk on {self.lease.sqlite_path}. SQLite serves one process: "
                "stop the other one first, or use PostgreSQL (database.url) to run several workers."
            )

    async def attach(self, channel: Channel, policy: SenderPolicy | None = None) -> Sender:
        """Connect the channel that carries the desk's messages and send what is owed, if this worker leads."""
        # Without a staff side (console, no staff group) nobody could answer a held chat: the bot keeps answering.
        self.context = replace(self.context, staff_available=self.context.staff_available and channel.has_staff)
        self._channel = channel
        policy = policy or SenderPolicy()
        if not self.store.is_sqlite:
            # Rows another worker queued reach this one only through the store: it looks for them often.
            policy = replace(
                policy, sweep_seconds=min(policy.sweep_seconds, self.workers.pickup_seconds), from_store=True
            )
        self._policy = policy
        self.sender = self._new_sender()
        if self.store.is_sqlite:  # one process (claim_store): it always leads
            await self.sender.start()
        else:
            await self._contend()
            self._lease_task = asyncio.create_task(self._keep_lease(), name="lease")
        return self.sender

    @property
    def leading(self) -> bool:
        """This worker sends the outbox and runs the sweeps (always so on SQLite).

        A desk no channel is attached to (a tool, a test) has nobody to share its work with: it leads.
        """
        return self.sender is None or self.sender.active

    def _new_sender(self) -> Sender:
        assert self._channel is not None
        return Sender(self.run, self._channel, lambda: self.context.clock(), self.context.zone, self._policy)

    async def _contend(self) -> None:
        """Take the lease if nobody holds it; the holder's connection ending frees it for the next try."""
        try:
            got = await asyncio.to_thread(self.lease.acquire)
        except Exception as exc:  # the store is down: the next try comes soon
            log.error("lease: not taken (%s)", exc.__class__.__name__)
            return
        if got and self.sender is not None and not self.sender.active:
            log.warning("this worker holds the lease: it sends the outbox and runs the deadline sweep")
            await self.sender.start()
            loop, sender = asyncio.get_running_loop(), self.sender
            self._listener = OutboxListener(self.store.engine, lambda: loop.call_soon_threadsafe(sender.wake))
            self._listener.start()
        elif not got and self._lease_task is None:
            log.warning("another worker holds the lease: this one handles updates and leaves sending to it")

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self.workers.lease_seconds)
            if self.sender is None:
                return
            if not self.sender.active:
                await self._contend()
            elif not await asyncio.to_thread(self.lease.still_held):
                # Another worker may hold it now: stop sending at once, so nothing goes out twice.
                log.error("lease lost: this worker stops sending and stands by")
                assert self.sender is not None
                await self._stop_listening()
                await self.sender.stop(0)
                self.sender = self._new_sender()

    async def detach(self, timeout: float) -> None:
        """Stop sending: what is in hand gets `timeout` seconds, the rest stays pending for the next start."""
        if self._lease_task is not None:
            self._lease_task.cancel()
            await asyncio.gather(self._lease_task, return_exceptions=True)
            self._lease_task = None
        await self._stop_listening()
        if self.sender is not None:
            await self.sender.stop(timeout)
            self.sender = None
        if not self.store.is_sqlite:
            # Another worker takes over at its next try rather than when this connection times out.
            await asyncio.to_thread(self.lease.release)

    async def _stop_listening(self) -> None:
        if self._listener is not None:
            await asyncio.to_thread(self._listener.stop)
            self._listener = None

    def submit(self, envelopes: list[Envelope]) -> None:
        """Hand what a unit of work queued to the sender (it is already safe in the store).

        A worker without the lease has nothing to do: queuing the rows notified the holder (crm_store.wakeups).
        """
        if self.sender is not None and envelopes:
            self.sender.submit(envelopes)

    @property
    def kb(self) -> KnowledgeBase:
        return self.context.kb

    def replace_knowledge(self, kb: KnowledgeBase) -> None:
        """Swap the knowledge base atomically; units of work already running keep the old one."""
        self.context = replace(self.context, kb=kb)

    async def reload_knowledge(self, paths: Sequence[Path], thresholds: Thresholds) -> str:
        """Load the knowledge files again; a broken edit keeps the old knowledge base serving. What to tell."""
        try:
            kb, advice = await asyncio.to_thread(_load_knowledge, paths, thresholds, self.kb.embedder)
        except KnowledgeError as exc:
            problems = str(exc).splitlines()
            shown = "\n".join(problems[:MAX_PROBLEMS_SHOWN])
            more = f"\n…还有 {len(problems) - MAX_PROBLEMS_SHOWN} 行" if len(problems) > MAX_PROBLEMS_SHOWN else ""
            log.warning("knowledge reload refused: %d problem lines", len(problems))
            return f"⚠️ 知识库有错误，继续使用原来的版本：\n{shown}{more}"
        before = len(self.kb.entries)
        self.replace_knowledge(kb)
        reply = f"✅ 知识库已重新加载：{len(kb.entries)} 条（原 {before} 条）。"
        if advice:
            more = f"\n…还有 {len(advice) - MAX_PROBLEMS_SHOWN} 条" if len(advice) > MAX_PROBLEMS_SHOWN else ""
            reply += "\n💡 可以改进的地方（不影响使用）：\n" + "\n".join(advice[:MAX_PROBLEMS_SHOWN]) + more
        return reply

    async def handle(self, inbound: Inbound) -> Outcome:
        """Record and answer one customer contact; while the store is down, keep it in the spool."""
        if self._spool_waiting:
            await self.replay_spool()
        customer = f"{inbound.customer.channel}:{inbound.customer.external_id}"
        flow = self.flood.check(customer, time.monotonic())
        if self._spool_waiting:
            # The store is still down (the replay stopped): this contact queues behind the spooled ones.
            return await self._spool(inbound, "spool not replayed yet")
        started = time.perf_counter()
        try:
            outcome = await self.run(self._decide, inbound, flow)
        except STORE_DOWN as exc:
            if self.spool is None:
                raise
            return await self._spool(inbound, exc.__class__.__name__)
        self.submit(outcome.outbox)
        metrics.HANDLING.observe(time.perf_counter() - started)
        metrics.MESSAGES_IN.labels(inbound.kind.value).inc()
        if not outcome.duplicate:
            metrics.ANSWERS.labels(outcome.intent or "none", outcome.tier or "none").inc()
        return outcome

    async def _spool(self, inbound: Inbound, why: str) -> Outcome:
        assert self.spool is not None
        await asyncio.to_thread(self.spool.append, inbound)
        self._spool_waiting = True
        metrics.SPOOLED.inc()
        log.error("store unavailable (%s): contact of update %s spooled", why, inbound.update_id)
        language = reply_language(inbound.text, inbound.customer.language, self.context.default_language)
        outcome = Outcome(replies=[Reply(say("spooled", language))], spooled=True)
        await self._send_unrecorded(inbound, outcome.replies[0])
        return outcome

    def _decide(self, session: Session, inbound: Inbound, flow: Flow) -> Outcome:
        # Another worker deciding for the same customer waits: one customer, one ticket, one topic.
        serialise_customer(session, f"{inbound.customer.channel}:{inbound.customer.external_id}")
        outcome = handle_inbound(session, self.context, inbound, flow)
        if outcome.duplicate:
            # A redelivered update: what it still owes (a crash between recording and sending) goes out now.
            outcome.outbox = outbox.owed(session, update_id=inbound.update_id) if inbound.update_id else []
        else:
            # Already queued by the decision (e.g. tickets handed out from the queue), then its replies and posts.
            outcome.outbox = outcome.outbox + outbox.queue_outcome(
                session, inbound, outcome, staff=self.context.staff_available, now=self.context.clock()
            )
        return outcome

    async def _send_unrecorded(self, inbound: Inbound, reply: Reply) -> None:
        """The store is down, so nothing can be queued: tell the customer directly that we have their message."""
        if self.sender is None:
            return
        try:
            await self.sender.channel.send_reply(outbox.chat_of(inbound), reply)
        except DeliveryError as exc:
            log.warning("spool notice not delivered: %s", exc.reason)

    async def replay_spool(self) -> list[tuple[Inbound, Outcome]]:
        """Record what was spooled during an outage, oldest first; stops at the first store failure."""
        if self.spool is None:
            return []
        async with self._replaying:
            replayed = await self._replay()
        if replayed:
            log.warning("replayed %d spooled contacts into the store", len(replayed))
        return replayed

    async def _replay(self) -> list[tuple[Inbound, Outcome]]:
        assert self.spool is not None
        replayed: list[tuple[Inbound, Outcome]] = []
        for batch in await asyncio.to_thread(self.spool.batches):
            done = 0
            try:
                for inbound in await asyncio.to_thread(lambda batch=batch: list(self.spool.read(batch))):
                    outcome = await self.run(self._decide, inbound, Flow.OK)
                    self.submit(outcome.outbox)
                    done += 1
                    replayed.append((inbound, outcome))
            except STORE_DOWN:
                return replayed
            finally:
                await asyncio.to_thread(self.spool.keep_from, batch, done)
        self._spool_waiting = await asyncio.to_thread(self.spool.pending) > 0
        return replayed

    async def blocked_change(self, channel: str, external_id: str, *, blocked: bool) -> None:
        """The customer blocked or unblocked the bot: recorded, and staff holding their ticket are told."""
        told = await self.run(
            outbox.blocked_change,
            channel,
            external_id,
            blocked=blocked,
            now=self.context.clock(),
            staff=self.context.staff_available,
        )
        self.submit(told)

    async def figures(self) -> StoreFigures:
        """What /metrics and /readyz read from the store (raises STORE_DOWN when it is unreachable)."""
        return await self.run(store_figures, self.context.clock())

    def spool_depth(self) -> int:
        return self.spool.pending() if self.spool is not None else 0

    async def check_deadlines(self) -> int:
        """Remind staff before promised deadlines and flag breaches; how many alerts were queued.

        Only the lease holder sweeps: with several workers, every reminder would otherwise go out once each.
        """
        if not self.leading:
            return 0
        queued = await self.run(deadlines.sweep_and_queue, self.context)
        self.submit(queued)
        return len(queued)

    async def erase(self, customer_id: int, who: Who, reason: str | None = None) -> int | None:
        """Erase a customer (a manager confirmed): the store, then what still waits in the spool.

        Holding the replay lock: a spooled message replayed in between would come back as a new customer.
        """
        async with self._replaying, self._staff_quiet():
            staff = self.context.staff_available
            told = await self.run(privacy.erase_and_tell, customer_id, who, self.context.clock(), reason, staff=staff)
            if told is None:
                return None
            if self.spool is not None:
                await asyncio.to_thread(self.spool.erase, told.channel, told.external_id)
        self.submit(told.outbox)
        return told.anonymised

    async def forget_old_texts(self, keep_days: int) -> privacy.Blanked | None:
        """The daily retention job: blank texts older than `keep_days` (0: keep them)."""
        if keep_days <= 0 or not self.leading:
            return None
        blanked = await self.run(privacy.blank_old_texts, self.context.clock(), keep_days)
        log.info("retention: texts older than %d days blanked: %s", keep_days, blanked)
        return blanked

    def _staff_quiet(self) -> AbstractAsyncContextManager[object]:
        """No staff post in flight (see Sender.staff_batch); nothing to wait for without a sender."""
        return self.sender.staff_batch if self.sender is not None else contextlib.nullcontext()

    async def keep_dead_letter(self, raw: dict[str, Any], error: str) -> None:
        """Keep an update no channel could read; raises STORE_DOWN when the store cannot take it yet."""
        await self.run(record_dead_letter, raw, error, self.context.clock())
        metrics.DEAD_LETTERS.inc()

    async def run(self, work: Callable[..., T], *args: object, **options: object) -> T:
        """Run `work(session, *args, **options)` in one transaction on the store's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self._unit_of_work, work, *args, **options))

    def _unit_of_work(self, work: Callable[..., T], *args: object, **options: object) -> T:
        with self.store.transaction() as session:
            return work(session, *args, **options)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.lease.release()
        self.store.close()
