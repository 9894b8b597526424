"""What a replay reads: the recorded plate reads and lane events in the batches the live
workers handled them in, the manifest versions as they arrived, and the decisions that were
published (to compare with). From the archive, or from the Kafka topics themselves."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.model import Gate, Manifest
from lanes.policy.callforward import CalledPlace
from services.adapters.decision_outbox import to_wire
from services.archive import records as archived
from services.archive.records import ArchivedRecord
from services.archive.store import RecordedBatch, batches_in_range, records_in_range
from services.db.booking_tables import BookingEventRow
from services.db.called import calls_parse
from services.db.convert import decision_row_to_wire, manifest_from_payload
from services.db.tables import DecisionRow, ManifestVersionRow
from streams.topics import LANE_DECISIONS, LANE_EVENTS, PLATE_READS
from streams.unreadable import UNREADABLE, salvage

DECIDER, LANE_EVENT_WORKER = "decider", "lane-events"
log = logging.getLogger(__name__)

INPUT_TOPICS = {PLATE_READS.name: DECIDER, LANE_EVENTS.name: LANE_EVENT_WORKER}
FALLBACK_BATCH = 500  # records a batch when no batch boundaries were recorded
QUIET_POLLS = 2  # empty polls past the end offsets before a topic counts as read


class BrokerUnreachable(Exception):
    """No Kafka broker answers at the bootstrap: `--source kafka` and `redrive --dlq` have
    nothing to read (the embedded broker of `borderflow up` keeps nothing once stopped)."""


@dataclass(frozen=True, slots=True)
class InputBatch:
    worker: str  # decider or lane-events
    records: tuple[ArchivedRecord, ...]
    recorded_at: datetime | None  # when it committed live (None: not recorded); shown only
    # the manifest versions it was decided with: `seq` up to this (None: boundaries not
    # recorded, so neither is what it knew: every version)
    manifest_seq: int | None = None
    booking_seq: int | None = None  # likewise for the booking events (None: all)
    # the calls call-forward had made that the batch was told of, by gate (issue 23; none
    # when the boundaries were not recorded)
    calls: Mapping[str, Sequence[CalledPlace]] = field(default_factory=dict)
    # up to when every partition of the input had been read live (streams/watermark.py;
    # None: all of them, or not recorded): the alert rules judge no later
    watermark: datetime | None = None


@dataclass(frozen=True, slots=True)
class ManifestVersion:
    manifest: Manifest
    source: str
    recorded_at: datetime  # wall clock, kept for the sandbox's rows; never compared
    seq: int  # commit order (services.db.manifests.next_version_seq)
    # the events' clock it was stored at live (None: before any read), what the rules
    # count it from (`manifest_versions.clock_at`)
    clock_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BookingChange:
    """A booking as a firm left it (created, rescheduled, cancelled: what the API did; the
    decider's own changes, used / lost / no-show, the replay makes again itself)."""

    seq: int
    payload: dict[str, Any]
    occurred_at: datetime
    event_id: str = ""  # the live event's, so the replay's alerts cite the same (issue 22)
    type: str = ""


FIRM_CHANGES = ("booking.created", "booking.rescheduled", "booking.cancelled")


@dataclass(frozen=True, slots=True)
class ReplayInputs:
    batches: tuple[InputBatch, ...]
    # every manifest version stored now, in `seq` order; a batch is given those up to its
    # `manifest_seq`, so the later ones (imported after the events) are never seen
    manifests: tuple[ManifestVersion, ...]
    # the decisions made live (wire form): every one published, plus those the database
    # holds that were never archived
    recorded: tuple[dict[str, Any], ...]
    batches_recorded: bool  # False: boundaries rebuilt from archive order
    # every firm change to a booking, in `seq` order; a batch is given those up to its
    # `booking_seq`
    bookings: tuple[BookingChange, ...] = ()
    # the range's archived inputs (distinct events, the warm-up's not counted) that no
    # recorded batch holds: the live workers stopped before them (or dead-lettered them),
    # so they decided nothing live and are not replayed (found by an analyst's try: 9,987
    # of 14,567 reads, left out without a word)
    not_handled_live: int = 0

    @property
    def events(self) -> int:
        return sum(len(b.records) for b in self.batches)


def assemble(
    records: Iterable[ArchivedRecord],
    batches: Sequence[RecordedBatch],
    manifests: Sequence[ManifestVersion],
    *,
    gates: Sequence[Gate] | None = None,
    fallback_batch: int = FALLBACK_BATCH,
    decided_from: datetime | None = None,
    decided_to: datetime | None = None,
) -> ReplayInputs:
    """The inputs, in the recorded batches when there are any (else archive order in chunks
    of `fallback_batch`), restricted to `gates` when given; the published decisions from
    `decided_from` on (earlier inputs are the warm-up); inputs from `decided_to` on (read
    with a batch that runs past the range) are not the range's."""
    cameras = {c.camera_id for g in gates for c in g.cameras} if gates is not None else None
    gate_ids = {g.gate_id for g in gates} if gates is not None else None
    by_id: dict[tuple[str, str], ArchivedRecord] = {}
    ordered: list[ArchivedRecord] = []
    decisions: dict[str, dict[str, Any]] = {}
    for record in records:
        payload = record.payload()
        if record.topic == LANE_DECISIONS.name:
            if decided_from is not None and record.event_time < decided_from:
                continue
            if payload and (gate_ids is None or payload.get("gate_id") in gate_ids):
                decisions.setdefault(str(payload.get("decision_id")), payload)
            continue
        if record.topic not in INPUT_TOPICS or not _at_gate(record, payload, cameras, gate_ids):
            continue
        ordered.append(record)
        if record.event_id is not None:
            by_id.setdefault((INPUT_TOPICS[record.topic], record.event_id), record)
    recorded = tuple(decisions.values())
    if batches:
        handled = {(batch.worker, e) for batch in batches for e in batch.event_ids}
        left = {
            (INPUT_TOPICS[r.topic], r.event_id or f"{r.topic}[{r.partition}]@{r.offset}")
            for r in ordered
            if (decided_from is None or r.event_time >= decided_from)
            and (decided_to is None or r.event_time < decided_to)
        } - handled
        out = []
        for batch in batches:
            found = [
                by_id[(batch.worker, e)] for e in batch.event_ids if (batch.worker, e) in by_id
            ]
            if found:
                out.append(
                    InputBatch(
                        batch.worker,
                        tuple(found),
                        batch.recorded_at,
                        batch.manifest_seq,
                        batch.booking_seq,
                        calls_parse(batch.calls),
                        batch.watermark,
                    )
                )
        return ReplayInputs(
            tuple(out),
            tuple(manifests),
            recorded,
            batches_recorded=True,
            not_handled_live=len(left),
        )
    return ReplayInputs(
        tuple(_chunks(ordered, fallback_batch)), tuple(manifests), recorded, batches_recorded=False
    )


def _at_gate(
    record: ArchivedRecord,
    payload: dict[str, Any] | None,
    cameras: set[str] | None,
    gate_ids: set[str] | None,
) -> bool:
    if cameras is None or gate_ids is None:
        return True
    if payload is None:
        return False
    if record.topic == PLATE_READS.name:
        return payload.get("camera_id") in cameras
    return payload.get("gate_id") in gate_ids


def _chunks(records: Sequence[ArchivedRecord], size: int) -> list[InputBatch]:
    out: list[InputBatch] = []
    run: list[ArchivedRecord] = []
    for record in records:
        if run and (INPUT_TOPICS[run[0].topic] != INPUT_TOPICS[record.topic] or len(run) >= size):
            out.append(InputBatch(INPUT_TOPICS[run[0].topic], tuple(run), None))
            run = []
        run.append(record)
    if run:
        out.append(InputBatch(INPUT_TOPICS[run[0].topic], tuple(run), None))
    return out


async def manifest_versions(*, session: AsyncSession) -> list[ManifestVersion]:
    """Every manifest version, in the order they were committed (`seq`). Which of them a
    replayed batch sees is decided by the batch's recorded `manifest_seq`, not by any date:
    neither the events' (event time) nor the imports' (wall clock) are compared."""
    rows = (
        await session.scalars(
            select(ManifestVersionRow).order_by(
                ManifestVersionRow.seq, ManifestVersionRow.manifest_id, ManifestVersionRow.version
            )
        )
    ).all()
    return [
        ManifestVersion(
            # as stored and used live, not re-validated: the intake's rules may refuse it
            manifest_from_payload(r.payload, firm_id=r.firm_id),
            r.source,
            r.recorded_at,
            r.seq or 0,
            r.clock_at,
        )
        for r in rows
    ]


async def booking_changes(*, session: AsyncSession) -> list[BookingChange]:
    """Every firm change to a booking, in the order written (`seq`)."""
    rows = (
        await session.scalars(
            select(BookingEventRow)
            .where(BookingEventRow.type.in_(FIRM_CHANGES))
            .order_by(BookingEventRow.seq, BookingEventRow.event_id)
        )
    ).all()
    return [
        BookingChange(r.seq or 0, dict(r.payload), r.occurred_at, r.event_id, r.type) for r in rows
    ]


async def stored_decisions(
    *, session: AsyncSession, start: datetime, end: datetime, gates: Sequence[Gate] | None
) -> list[dict[str, Any]]:
    """The decisions the database holds for [start, end) (each visit's current one), in the
    wire form they are published in: the record of what was decided even when the archiver
    stopped before they were published (`borderflow up` publishes the last ones on its way
    out, and the embedded broker keeps nothing)."""
    query = select(DecisionRow).where(DecisionRow.decided_at >= start, DecisionRow.decided_at < end)
    if gates is not None:
        query = query.where(DecisionRow.gate_id.in_([g.gate_id for g in gates]))
    rows = (await session.scalars(query.order_by(DecisionRow.decided_at))).all()
    return [json.loads(to_wire(decision_row_to_wire(r)).model_dump_json()) for r in rows]


def with_stored(inputs: ReplayInputs, stored: Sequence[dict[str, Any]]) -> ReplayInputs:
    """`inputs` with the stored decisions that no archived record holds added."""
    known = {str(d.get("decision_id")) for d in inputs.recorded}
    extra = tuple(d for d in stored if str(d["decision_id"]) not in known)
    return replace(inputs, recorded=inputs.recorded + extra)


async def from_archive(
    sessions: async_sessionmaker[AsyncSession],
    *,
    start: datetime,
    end: datetime,
    gates: Sequence[Gate] | None = None,
    warm_from: datetime | None = None,
) -> ReplayInputs:
    """The inputs of [start, end), and those of [warm_from, start) before them as a warm-up
    (the boards and visits a range starts with are those the earlier events left)."""
    first = min(start, warm_from or start)
    topics = [*INPUT_TOPICS, LANE_DECISIONS.name]
    async with sessions() as session:
        batches = await batches_in_range(session=session, start=first, end=end)
        through = read_through(end, batches)
        records = await records_in_range(session=session, start=first, end=through, topics=topics)
        manifests = await manifest_versions(session=session)
        bookings = await booking_changes(session=session)
        stored = await stored_decisions(session=session, start=start, end=end, gates=gates)
    inputs = assemble(records, batches, manifests, gates=gates, decided_from=start, decided_to=end)
    return replace(with_stored(inputs, stored), bookings=tuple(bookings))


def read_through(end: datetime, batches: Sequence[RecordedBatch]) -> datetime:
    """Where to read the inputs up to (exclusive): `end`, or past it to the last event of a
    batch that runs past it. The live run decided that batch's trucks on all its reads;
    cut at `end`, a truck decided live after `end` was decided before it, on some of them
    (found by an analyst's try: 1 difference at a range's end, its warm-up complete)."""
    last = max((b.last_event_at for b in batches), default=end)
    return max(end, last + timedelta(microseconds=1))


async def from_kafka(
    sessions: async_sessionmaker[AsyncSession],
    consumer_kwargs: dict[str, Any],
    *,
    start: datetime,
    end: datetime,
    gates: Sequence[Gate] | None = None,
    warm_from: datetime | None = None,
) -> ReplayInputs:
    """The same inputs read off the topics (as far as the broker still holds them); batch
    boundaries and manifests still come from the database."""
    first = min(start, warm_from or start)
    read = await read_topics(consumer_kwargs, [*INPUT_TOPICS, LANE_DECISIONS.name])
    async with sessions() as session:
        batches = await batches_in_range(session=session, start=first, end=end)
        manifests = await manifest_versions(session=session)
        bookings = await booking_changes(session=session)
        stored = await stored_decisions(session=session, start=start, end=end, gates=gates)
    through = read_through(end, batches)
    records = [r for r in read if first <= r.event_time < through]
    inputs = assemble(records, batches, manifests, gates=gates, decided_from=start, decided_to=end)
    return replace(with_stored(inputs, stored), bookings=tuple(bookings))


async def read_topics(
    consumer_kwargs: dict[str, Any], topics: Sequence[str]
) -> list[ArchivedRecord]:
    """Every record `topics` hold now (no consumer group, no commit)."""
    consumer = AIOKafkaConsumer(
        **consumer_kwargs, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    try:  # was a KafkaConnectionError traceback, and 'Unclosed AIOKafkaConsumer'
        await consumer.start()
    except KafkaConnectionError:
        await consumer.stop()
        raise BrokerUnreachable(
            f"no Kafka broker answers at {consumer_kwargs.get('bootstrap_servers')} "
            "(BORDERFLOW_KAFKA_BOOTSTRAP); the embedded broker of `borderflow up` keeps "
            "nothing once stopped: its records are in the archive"
        ) from None
    try:
        await consumer.topics()  # metadata for every topic
        parts = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        # the broker's end offsets are a floor, not the end (Tansu answers a compressed
        # batch's base offset): read until two quiet polls past them
        ends = await consumer.end_offsets(parts)
        out: list[ArchivedRecord] = []
        have: dict[TopicPartition, int] = {}  # the next offset to read, a partition

        async def take(records: list[ConsumerRecord]) -> bool:
            out.extend(archived.from_kafka(r) for r in records)
            return True

        async def skip(record: ConsumerRecord, reason: str) -> None:
            log.warning(
                "skipping %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
            )

        async def taken(offsets: dict[TopicPartition, int]) -> None:
            have.update(offsets)

        quiet = 0
        while quiet < QUIET_POLLS:
            try:
                fetched = await consumer.getmany(*parts, timeout_ms=300)
            except UNREADABLE:  # a record the client cannot parse: stepped past, told
                await salvage(
                    consumer,
                    process=take,
                    dead_letter=skip,
                    commit=taken,
                    stop=asyncio.Event(),
                    start=dict(have),
                )
                continue
            for tp, records in fetched.items():
                out += [archived.from_kafka(r) for r in records]
                if records:
                    have[tp] = records[-1].offset + 1
            if any(fetched.values()):
                quiet = 0
            elif all([await consumer.position(tp) >= ends[tp] for tp in parts]):
                quiet += 1
        return out
    finally:
        await consumer.stop()


def decision_line(data: Mapping[str, Any]) -> str:
    """A decision as one canonical JSON line (sorted keys): what the decision files hold."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False)
