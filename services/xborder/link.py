"""The link worker (issue 21): one per side, three loops (and a fourth, 0, when this side's
gate file declares a corridor: this side's lane decisions and lane events -> its crossing
events on the outbound topic, services/xborder/facts.py; notices applied feed the matcher
and the bookings here, services/xborder/prior.py).

1. **outbound**: this side's crossing events (`borderflow.xborder.outbound`, its own broker)
   -> the agreement's fields only, signed, stored in the outbox with the next sequence
   number, in one transaction with the crossing's fact; the Kafka offset is committed after.
2. **forwarder**: the outbox, in sequence order -> the other side's broker (or a local topic
   MirrorMaker 2 copies across); a message is marked sent once that broker acknowledged it.
   The other side down: messages wait in the outbox (store and forward) and the forwarder
   retries with backoff from the first unsent one; nothing is lost, and a message resent
   after a crash carries the same id and bytes, so the receiver applies it once. A message
   taken but not acknowledged in time is resent with what came between it and the last
   acknowledged one, and the acks the other side lacks when it resends its own (bounded
   go-back-N, `store.rewind_unacknowledged`), each signed anew with its next `attempt`:
   the receiver acknowledges it again.
3. **receiver**: the other side's messages on this side's broker -> verified (signature,
   trusted key of that side), checked (not seen before, next in its sender's sequence) and
   applied with its inbox row and an ack in one transaction; a refusal goes to the topic's
   dead-letter twin with the reason and counts in `borderflow_xborder_refused`. A signed
   message that is not valid is refused so too, but takes its place in the sequence (inbox
   row with the refusal, ack): the messages after it are applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.crossings import Side
from lanes.model import Gate
from services.runtime.settings import KafkaSettings
from services.xborder import metrics, refusals
from services.xborder import store as xstore
from services.xborder.config import OUTBOUND_TOPIC, XborderSettings, inbound_topic
from services.xborder.corridor import CrossingGates, GateCorridor
from services.xborder.facts import FACT_TOPICS, Consumed, FactsPublisher, decode_fact
from services.xborder.prior import Prior
from streams import clock
from streams.clients import ensure_topics, make_producer
from streams.runtime import Backoff, ConsumerRuntime, Inbound, Rejected
from streams.topics import TopicSpec
from streams.xborder import REPLY_TYPES, MessageHeader, RefusalV1, XBorderMessage
from streams.xborder_local import LocalCrossingEventV1, decode_local_event
from streams.xborder_sign import Refused, TrustedKeys, Verified, sign, verify_signed

log = logging.getLogger(__name__)
# the longest wait between two resends of messages the other side does not acknowledge
RESEND_AFTER_CAP_S = 3600.0


def local_topics(me: Side) -> list[TopicSpec]:
    """The topics the link needs on this side's broker, dead-letter twins included."""
    outbound = TopicSpec(
        OUTBOUND_TOPIC, 3, "crossing_id", "this side's crossing events for the other side"
    )
    inbound = TopicSpec(
        inbound_topic(me.other), 1, "sender", "the other side's signed messages, in order"
    )
    return [outbound, outbound.dlq, inbound, inbound.dlq]


def target_topics(topic: str) -> list[TopicSpec]:
    spec = TopicSpec(topic, 1, "sender", "this side's signed messages for the other side")
    return [spec, spec.dlq]


@dataclass(frozen=True, slots=True)
class Received:
    """A record of the other side's topic: verified, or refused with the reason."""

    verified: Verified | None
    refused: Refused | None


class Link:
    def __init__(
        self,
        *,
        settings: XborderSettings,
        kafka: KafkaSettings,
        bootstrap: str,
        sessions: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        trusted: TrustedKeys | None = None,
        corridors: Mapping[str, GateCorridor] | None = None,
        gates: Mapping[str, Gate] | None = None,
    ) -> None:
        self.settings, self.kafka, self.bootstrap = settings, kafka, bootstrap
        self.sessions, self.producer = sessions, producer
        self.me = settings.side
        self.key = settings.signing()
        self.trusted = trusted if trusted is not None else settings.trusted()
        # the other side's notices as a prior for this side's matcher and bookings
        self.prior = Prior(dict(gates)) if gates else None
        self.stats: Counter[str] = Counter()
        self._wake = asyncio.Event()
        self._resend_after = settings.resend_after_s  # doubled while resends bring no ack
        self._resent_from: int | None = None
        # the lowest sequence of the other side's resends since our last rewind: it lacks
        # our acks of them (store.rewind_unacknowledged)
        self._peer_resent: int | None = None
        self.outbound: ConsumerRuntime[LocalCrossingEventV1] = ConsumerRuntime(
            **self._runtime_args("out"),
            topics=[OUTBOUND_TOPIC],
            decode=self.decode_local,
            handle=self.handle_local,
        )
        self.inbound: ConsumerRuntime[Received] = ConsumerRuntime(
            **self._runtime_args("in"),
            topics=[inbound_topic(self.me.other)],
            decode=self.decode_received,
            handle=self.handle_received,
            oversized=self.oversized_received,
        )
        # 0. this side's facts (lane decisions, lane events) -> its crossing events on the
        # outbound topic (services/xborder/facts.py); off without a gate with a corridor
        self.facts: ConsumerRuntime[Consumed] | None = None
        corridors = {g: c for g, c in (corridors or {}).items() if c.side is self.me}
        # the gates the other side's messages may name (not checked without a corridor)
        self.gates = CrossingGates.of(self.me, corridors)
        if corridors:
            self.publisher = FactsPublisher(
                sessions=sessions, producer=producer, corridors=dict(corridors)
            )
            self.facts = ConsumerRuntime(
                **self._runtime_args("facts"),
                topics=FACT_TOPICS,
                decode=decode_fact,
                handle=self.publisher.handle,
            )

    def _runtime_args(self, suffix: str) -> dict[str, Any]:
        return {
            "settings": self.kafka,
            "bootstrap": self.bootstrap,
            "group_id": f"{self.settings.consumer_group}-{self.me.value.lower()}-{suffix}",
            "producer": self.producer,
            "on_reconnect": self.ensure_local_topics,
        }

    def _sign(self, message: XBorderMessage) -> bytes:
        return sign(message, self.key)

    async def ensure_local_topics(self) -> None:
        await ensure_topics(self.kafka, self.bootstrap, local_topics(self.me))

    # -- 1. outbound ----------------------------------------------------------------------

    def decode_local(self, record: ConsumerRecord) -> LocalCrossingEventV1:
        return decode_local_event(record.value)

    async def handle_local(self, batch: Sequence[Inbound[LocalCrossingEventV1]]) -> None:
        now = clock.wall_clock()
        async with self.sessions() as session, session.begin():
            unit = xstore.Unit(session, me=self.me, sign=self._sign, now=now)
            results = await unit.take([item.event for item in batch])
        taken = sum(r is not None for r in results)
        self.stats["taken"] += taken
        self.stats["taken_again"] += len(batch) - taken
        self._wake.set()

    # -- 3. receiver ----------------------------------------------------------------------

    def decode_received(self, record: ConsumerRecord) -> Received:
        try:
            return Received(verify_signed(record.value, self.trusted), None)
        except Refused as refused:
            return Received(None, refused)

    def oversized_received(self, record: ConsumerRecord, reason: str) -> Received:
        """A record over the size limit, never read: refused as `too_large`, listed and
        alerted as every refused record (until 2026-12-06 the runtime dead-lettered it
        before the link saw it), dead-lettered by reference, answered with nothing (its
        message id is not read), and like an unverified record it holds the sequence."""
        return Received(None, Refused(reason, "too_large"))

    async def handle_received(self, batch: Sequence[Inbound[Received]]) -> list[Rejected[Received]]:
        now = clock.wall_clock()
        rejected: list[Rejected[Received]] = []
        applied: list[XBorderMessage] = []
        incoming: list[tuple[Inbound[Received], xstore.Incoming]] = []
        for item in batch:
            verified, refused = item.event.verified, item.event.refused
            source = _record_of(item)
            if verified is not None:
                one = xstore.Incoming(verified.message, verified.key_id, verified.payload, source)
            elif refused is not None and refused.header is not None and refused.key_id:
                # signed by the sender but not valid: refused, in its place in the sequence
                one = xstore.Incoming(
                    refused.header, refused.key_id, b"", source, refusal=refused.reason
                )
            else:
                assert refused is not None
                rejected.append((item, refused.reason, refused.error_type))
                continue
            incoming.append((item, one))
        counted = False  # an invalid message counted in the sequence: its ack to send
        acknowledged: set[str] = set()  # the records refused in their place and acknowledged
        async with self.sessions() as session, session.begin():
            unit = xstore.Unit(
                session, me=self.me, sign=self._sign, now=now, prior=self.prior, gates=self.gates
            )
            results = await unit.apply([one for _, one in incoming])
            for (item, one), result in zip(incoming, results, strict=True):
                if result.status == "applied":
                    assert not isinstance(one.message, MessageHeader)
                    applied.append(one.message)
                elif result.status == "invalid":
                    counted = True
                    rejected.append((item, result.reason, result.status))
                    if one.message.type not in REPLY_TYPES:
                        acknowledged.add(_record_of(item))  # in its place, acknowledged
                elif result.status in ("redelivered", "resent"):
                    self.stats[result.status] += 1
                    if result.status == "resent":
                        counted = True  # acknowledged again, and ours it lacks to resend
                        sequence = one.message.sequence
                        self._peer_resent = min(self._peer_resent or sequence, sequence)
                else:
                    rejected.append((item, result.reason, result.status))
            rejected.sort(key=lambda r: (r[0].topic, r[0].partition, r[0].offset))  # in order
            # shown in the control room as well as dead-lettered (services/xborder/refusals.py)
            kept = [self._refusal(*r, acknowledged=acknowledged) for r in rejected]
            new = await refusals.record(session, kept, now=now)
            # and told to the sender, a refusal naming each (not twice for a redelivery)
            replies = [reply for r in new if (reply := refusals.reply_to(r)) is not None]
            told = await unit.refuse(replies)
        self._report(applied, rejected, told)
        if applied or counted or told:
            self._wake.set()  # acks and refusals to send
        return rejected

    def _report(
        self,
        applied: Sequence[XBorderMessage],
        rejected: Sequence[Rejected[Received]],
        told: Sequence[RefusalV1],
    ) -> None:
        """Metrics and logs of a batch received, once its transaction committed."""
        for message in applied:
            metrics.APPLIED.labels(message.sender.value, message.type).inc()
            if isinstance(message, RefusalV1):
                self._refused_by_peer(message)
        if told:
            metrics.REFUSALS_SENT.labels(self.me.value).inc(len(told))
            self.stats["refusals_sent"] += len(told)
        self.stats["applied"] += len(applied)
        sender = self.me.other.value
        for item, reason, error_type in rejected:
            metrics.REFUSED.labels(sender, error_type).inc()
            self.stats[f"refused_{error_type}"] += 1
            log.warning(
                "ALERT cross-border message refused (%s) at %s[%d]@%d: %s",
                error_type,
                item.topic,
                item.partition,
                item.offset,
                reason,
                extra={"xborder_refusal": error_type, "sender": sender},
            )

    def _refused_by_peer(self, refusal: RefusalV1) -> None:
        """The other side refused a message of ours and said so: kept on the message (the
        store), counted and logged for this side's operators."""
        other = refusal.sender.value
        metrics.REFUSED_BY_PEER.labels(other, refusal.kind).inc()
        self.stats["refused_by_peer"] += 1
        log.warning(
            "ALERT cross-border message %s refused by %s: %s",
            refusal.refused_message_id,
            other,
            refusal.reason,
            extra={"xborder_refused_by": other, "refused_message_id": refusal.refused_message_id},
        )

    def _refusal(
        self, item: Inbound[Received], reason: str, kind: str, *, acknowledged: set[str]
    ) -> refusals.Refusal:
        verified, refused = item.event.verified, item.event.refused
        # what a record refused without a place says it is, as far as it can be read (it
        # was listed as '(unreadable)' when its header was not valid)
        message = (
            verified.message
            if verified
            else (refused.header or refused.legible)
            if refused
            else None
        )
        return refusals.Refusal(
            kind=kind,
            reason=reason,
            source=_record_of(item),
            sender=self.me.other.value,
            message=message,
            acknowledged=_record_of(item) in acknowledged,
        )

    # -- 2. forwarder ---------------------------------------------------------------------

    async def forward(self, stop: asyncio.Event) -> None:
        bootstrap = self.settings.peer_bootstrap or self.bootstrap
        topic = self.settings.target()
        backoff = Backoff(first=0.2, cap=5.0)
        producer: AIOKafkaProducer | None = None
        try:
            while not stop.is_set():
                try:
                    if producer is None:
                        producer = await self._connect(bootstrap, topic)
                    sent = await self._send_pending(producer, topic)
                    backoff.reset()
                except (KafkaError, TimeoutError, OSError) as exc:
                    delay = backoff.next()
                    self.stats["send_failures"] += 1
                    log.warning(
                        "cross-border link to %s down (%s: %s); messages wait in the outbox, "
                        "retrying in %.1fs",
                        bootstrap,
                        type(exc).__name__,
                        exc,
                        delay,
                    )
                    await _stop_producer(producer)
                    producer = None
                    # the lag grows while the other side is away: show it then too (it was
                    # set only after a send that went through, so it read 0 all outage)
                    with contextlib.suppress(SQLAlchemyError, OSError):
                        await self.observe()
                    await _wait(stop, delay)
                    continue
                await self.observe()
                if not sent and await self._rewind():
                    continue
                if not sent:
                    await _wait(self._wake, self.settings.poll_s)
                    self._wake.clear()
        finally:
            await _stop_producer(producer)

    async def _rewind(self) -> bool:
        """Resend from the last acknowledged message up to the last one overdue, and what
        the other side lacks when it resent its own (`store.rewind_unacknowledged`). The
        wait doubles after each resend that brought no acknowledgement (the other side's
        worker down for hours: a resend an hour, not a flood of copies in its broker), and
        is back to `resend_after_s` once one arrives."""
        overdue = clock.wall_clock() - timedelta(seconds=self._resend_after)
        peer_resent, self._peer_resent = self._peer_resent, None
        async with self.sessions() as session, session.begin():
            first = await xstore.rewind_unacknowledged(
                session, sent_before=overdue, sign=self._sign, peer_resent_from=peer_resent
            )
        if first is None:
            return False
        waited = self._resend_after
        if self._resent_from is not None and first <= self._resent_from:
            cap = max(RESEND_AFTER_CAP_S, self.settings.resend_after_s)
            self._resend_after = min(2 * self._resend_after, cap)
        else:
            self._resend_after = self.settings.resend_after_s
        self._resent_from = first
        self.stats["resent_from"] += 1
        log.warning(
            "cross-border link: %s; resending from sequence %d (next resend after %.0fs "
            "without an acknowledgement)",
            (
                f"the other side resent from its sequence {peer_resent}: it may lack our acks"
                if peer_resent is not None
                else f"no acknowledgement for {waited:.0f}s"
            ),
            first,
            self._resend_after,
        )
        return True

    async def _connect(self, bootstrap: str, topic: str) -> AIOKafkaProducer:
        producer = make_producer(self.kafka, bootstrap, client_suffix="xborder")
        try:
            async with asyncio.timeout(self.kafka.request_timeout_s):
                await producer.start()
            await ensure_topics(
                self.kafka, bootstrap, target_topics(topic), timeout_s=self.kafka.request_timeout_s
            )
        except BaseException:
            await _stop_producer(producer)
            raise
        return producer

    async def _send_pending(self, producer: AIOKafkaProducer, topic: str) -> int:
        """Send the next unsent messages in order; mark sent the acknowledged prefix."""
        async with self.sessions() as session:
            rows = await xstore.unsent(session, limit=self.settings.send_batch)
            batch = [(row.sequence, row.message_id, row.envelope.encode()) for row in rows]
        if not batch:
            return 0
        futures, error = await self._enqueue(producer, topic, batch)
        if futures:
            # aiokafka settles each future itself (delivered, or its batch expired after
            # request_timeout): wait for that rather than abandon batches that may still
            # land, which would come back later as duplicates of the resent copies
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3 * self.kafka.request_timeout_s):
                    await asyncio.wait(futures)
        done = []
        for (sequence, _, _), future in zip(batch, futures, strict=False):
            if not future.done() or future.cancelled() or future.exception() is not None:
                if error is None:
                    error = (
                        future.exception()
                        if future.done() and not future.cancelled()
                        else TimeoutError("no acknowledgement")
                    )
                break
            done.append(sequence)
        if done:
            async with self.sessions() as session, session.begin():
                await xstore.mark_sent(session, done, now=clock.wall_clock())
            metrics.SENT.labels(self.me.value).inc(len(done))
            self.stats["sent"] += len(done)
        if error is not None:
            if isinstance(error, KafkaError | TimeoutError | OSError):
                raise error
            raise KafkaError(repr(error))
        return len(done)

    async def _enqueue(
        self, producer: AIOKafkaProducer, topic: str, batch: list[tuple[int, str, bytes]]
    ) -> tuple[list[asyncio.Future[Any]], BaseException | None]:
        """Hand the batch to the producer in order; stops at the first that cannot be
        (no metadata from the broker in time)."""
        key = self.me.value.encode()
        futures: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self.kafka.request_timeout_s):
                for sequence, message_id, envelope in batch:
                    headers = [
                        ("xborder-sender", key),
                        ("xborder-sequence", str(sequence).encode()),
                        ("xborder-message-id", message_id.encode()),
                    ]
                    futures.append(
                        await producer.send(topic, value=envelope, key=key, headers=headers)
                    )
        except (KafkaError, TimeoutError, OSError) as exc:
            return futures, exc
        return futures, None

    async def observe(self) -> xstore.LinkState:
        """The link's lag as metrics: messages waiting and the age of the oldest."""
        async with self.sessions() as session:
            state = await xstore.link_state(session, me=self.me)
        side = self.me.value
        metrics.PENDING.labels(side).set(state.pending)
        metrics.UNACKED.labels(side).set(state.unacked)
        age = 0.0
        if state.oldest_pending_at is not None:
            age = max(0.0, (clock.wall_clock() - state.oldest_pending_at).total_seconds())
        metrics.LAG_SECONDS.labels(side).set(age)
        return state

    # -- all three ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        async with self.sessions() as session, session.begin():
            await xstore.ensure_counters(session, me=self.me)
        await self.ensure_local_topics()
        tasks = [
            asyncio.create_task(self.outbound.run(stop), name="xborder-outbound"),
            asyncio.create_task(self.inbound.run(stop), name="xborder-inbound"),
            asyncio.create_task(self.forward(stop), name="xborder-forwarder"),
        ]
        if self.facts is not None:
            tasks.append(asyncio.create_task(self.facts.run(stop), name="xborder-facts"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _record_of(item: Inbound[Received]) -> str:
    """The record a message came in: `topic:partition:offset`."""
    return f"{item.topic}:{item.partition}:{item.offset}"


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


async def _stop_producer(producer: AIOKafkaProducer | None) -> None:
    if producer is None:
        return
    try:
        async with asyncio.timeout(5):
            await producer.stop()
    except Exception:
        log.warning("cross-border producer did not stop cleanly", exc_info=True)
