"""The decider worker: the plate reads' consumer. It decodes and checks each record (an
unknown camera, a clock out of bounds: dead-lettered), hands each batch to the decide-reads
use case (services/service_layer/deciding.py: visits -> manifest match -> lane ->
decision, one transaction per batch, the decisions leaving through the outbox), then
dead-letters the conflicting duplicates it reports.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import ConsumerRecord

from lanes.model import Camera, Gate
from lanes.plates import normalise_plate
from lanes.visits import ReadAtGate
from services.ports import AlertPublisher, DecisionPublisher
from services.runtime.metrics import CAMERA_CLOCK_SKEW, DECISION_SECONDS, timed
from services.service_layer.deciding import DecideReads, DecideReadsHandler, IncomingRead
from streams import clock
from streams.codec import decode_plate_read, plate_read_from_wire
from streams.errors import InvalidEvent
from streams.events import PlateReadV1
from streams.runtime import Inbound, Rejected
from streams.watermark import PartitionTimes

log = logging.getLogger(__name__)

PRODUCER_NAME = "borderflow.decider"


@dataclass(frozen=True, slots=True)
class GateRead:
    """A valid read resolved to its camera: what the decider handles."""

    wire: PlateReadV1
    at_gate: ReadAtGate


@dataclass(frozen=True, slots=True)
class ClockWindow:
    """How far a read's `captured_at` may be from the clock that sent it (its Kafka record's
    timestamp: kept with the record, so a replay reaches the same verdict). A sanity check
    at the door, not a decision: decisions use `captured_at` itself."""

    ahead: timedelta = timedelta(minutes=5)
    behind: timedelta | None = None  # None: any age

    @classmethod
    def of(cls, ahead_s: float, behind_s: float | None) -> ClockWindow:
        return cls(
            timedelta(seconds=ahead_s), None if behind_s is None else timedelta(seconds=behind_s)
        )

    def refuses(self, captured_at: datetime, record_ms: int | None) -> str | None:
        """The reason to refuse the read, or None."""
        if record_ms is None or record_ms <= 0:  # no timestamp on the record: nothing to check
            return None
        try:
            sent = datetime.fromtimestamp(record_ms / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            # past year 9999 (a producer sending micro- or nanoseconds as milliseconds): the
            # read is behind it by more than any window
            if self.behind is None:
                return None
            return (
                f"clock-skew: captured_at {captured_at.isoformat()} is behind the time it was "
                f"sent (record timestamp {record_ms} ms, past year 9999: micro- or nanoseconds "
                f"sent as milliseconds?); allowed: {_span(self.behind)}"
            )
        off = captured_at - sent
        if off > self.ahead:
            return (
                f"clock-skew: captured_at {captured_at.isoformat()} is {_span(off)} ahead of "
                f"the time it was sent ({sent.isoformat()}); allowed: {_span(self.ahead)}"
            )
        if self.behind is not None and -off > self.behind:
            return (
                f"clock-skew: captured_at {captured_at.isoformat()} is {_span(-off)} behind "
                f"the time it was sent ({sent.isoformat()}); allowed: {_span(self.behind)}"
            )
        return None


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:,.0f} days"
    if seconds >= 7_200:
        return f"{seconds / 3_600:,.1f} h"
    return f"{seconds:,.0f} s"


@dataclass
class DeciderStats:
    reads: int = 0
    duplicates: int = 0
    visits: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    published: int = 0


class Live:
    """`Decider.handle`'s watermark when none is given: the live one, from the partitions."""


LIVE = Live()


class Decider:
    """Turns a consumer batch into the `DecideReads` command for its handler; both are
    built in the composition root (services/bootstrap)."""

    def __init__(
        self,
        *,
        decide: DecideReadsHandler,
        outbox: DecisionPublisher,
        alert_outbox: AlertPublisher,
        gates: Mapping[str, Gate],
        clock_window: ClockWindow | None = None,
    ) -> None:
        self.decide, self.outbox, self.alert_outbox = decide, outbox, alert_outbox
        self.clock_window = clock_window or ClockWindow()
        self.cameras: dict[str, Camera] = {
            c.camera_id: c for g in gates.values() for c in g.cameras
        }
        self.stats = DeciderStats()
        self.partitions = PartitionTimes()  # the consumer runtime tells it the backlog

    # -- decoding (runs in the consumer runtime; InvalidEvent -> dead letter) ----------
    def decode(self, record: ConsumerRecord) -> GateRead:
        wire = decode_plate_read(record.value)
        camera = self.cameras.get(wire.camera_id)
        if camera is None:
            raise InvalidEvent(
                f"camera_id: unknown camera {wire.camera_id!r} "
                f"(known: {', '.join(sorted(self.cameras)) or 'none'})"
            )
        skew = self.clock_window.refuses(wire.captured_at, record.timestamp)
        if skew is not None:
            raise InvalidEvent(skew)
        if record.timestamp is not None and record.timestamp > 0:
            CAMERA_CLOCK_SKEW.labels(wire.camera_id).set(
                wire.captured_at.timestamp() - record.timestamp / 1000
            )
        read = plate_read_from_wire(wire)
        return GateRead(wire, ReadAtGate(read, camera, normalise_plate(wire.plate_text)))

    # -- handling ------------------------------------------------------------------------
    @timed(DECISION_SECONDS)
    async def handle(
        self,
        batch: Sequence[Inbound[GateRead]],
        *,
        watermark: datetime | Live | None = LIVE,
    ) -> list[Rejected[GateRead]]:
        """Decide the batch; returns the conflicting duplicates (an `event_id` already seen
        with other content: a bug or tampering upstream), for the dead-letter topic. An
        identical re-send changes nothing and is not reported. `watermark`: up to when
        every partition has been read (streams/watermark.py); live, from the partitions'
        times and the backlog the consumer runtime told `partitions`; the replay gives the
        one recorded with the batch."""
        if isinstance(watermark, Live):
            watermark = self.partitions.advance(
                ((i.topic, i.partition), i.event.at_gate.read.captured_at) for i in batch
            )
        unique: dict[str, Inbound[GateRead]] = {}
        conflicts: list[Rejected[GateRead]] = []
        for item in batch:
            first = unique.setdefault(item.event.at_gate.read.event_id, item)
            if first is not item and first.event.wire != item.event.wire:
                conflicts.append((item, _conflict_reason(item), "conflicting_duplicate"))
        items = list(unique.values())
        done = await self.decide(
            DecideReads(
                tuple(_incoming(i) for i in items),
                received_at=clock.wall_clock(),
                watermark=watermark,
            )
        )
        for item in items:
            stored = done.stored.get(item.event.at_gate.read.event_id)
            if stored is not None and not _same_read(stored, item.event.wire):
                conflicts.append((item, _conflict_reason(item), "conflicting_duplicate"))
        self.stats.reads += done.fresh
        self.stats.duplicates += len(batch) - done.fresh
        self.stats.visits += done.visits
        self.stats.decisions.update(d.outcome.value for d in done.decided)
        self.stats.published = self.outbox.published
        return conflicts  # counted with the other dead letters, by error type

    # -- outbox -------------------------------------------------------------------------
    async def publish_outbox(self) -> int:
        """Publish every decision not yet on Kafka (left by a crash or a failed send)."""
        sent = await self.outbox.drain()
        self.stats.published = self.outbox.published
        return sent

    async def idle(self) -> None:
        await self.publish_outbox()
        await self.alert_outbox.drain()


def _incoming(item: Inbound[GateRead]) -> IncomingRead:
    return IncomingRead(
        item.event.at_gate,
        item.event.wire.model_dump(mode="json"),
        item.topic,
        item.partition,
        item.offset,
    )


def _same_read(stored: Mapping[str, Any], wire: PlateReadV1) -> bool:
    """The stored read and this one say the same (a re-send), compared as values: the same
    instant in another offset, or fields in another order, is the same read."""
    try:
        return PlateReadV1.model_validate(stored) == wire
    except ValueError:  # a payload stored by an older version that no longer validates
        return True


def _conflict_reason(item: Inbound[GateRead]) -> str:
    return (
        f"conflicting-duplicate: event_id {item.event.at_gate.read.event_id!r} was already "
        "received with other content (the first one was kept)"
    )
