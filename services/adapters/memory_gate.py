"""The gate's state in memory (`GateStore`, services/ports/__init__.py): for the unit
tests of the deciding workers (no database, no broker) and for the replay, which fills it
from the recording as it goes (`store_manifests`, `apply_booking`, `add_weighing`).

It answers as the database adapter does, query for query: the same filters, the same
orders where the database is asked for one, times back in UTC (as `UTCDateTime` gives
them), a new row ignored where the database ignores a conflict. What it does not have is
a rollback: a transaction's changes are kept as they are made, so a batch that fails half
way leaves its first half (the replay stops on an error; the unit tests never raise).

With `keep` (a long replay sets it: `run_sandbox(keep=...)`), the state no query can ask
for any more is dropped as the event-time clock goes on, so that memory grows less with the
days replayed: once an hour of
a gate's event time, the reads captured more than `keep` before the alert rules' window
(their sightings and the payload's values; the payload stays, as compact JSON, for
`stored_reads`, which has no look-back) and the visits last seen before that. A query that
reaches back past what was dropped raises `DroppedState` rather than answer differently
from the database."""

from __future__ import annotations

import bisect
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lanes.alert_rules import AlertRules
from lanes.alerts import Alert, ManifestVersion, Observations, Sighting, WeighIn
from lanes.alerts.evaluate import lookback
from lanes.alerts.model import stored_at_clock
from lanes.board import Board
from lanes.booking import Booking, slots_at_arrival
from lanes.bookings import BookedSlot, BookingState
from lanes.model import Direction, Gate, LaneDecision, Manifest
from lanes.plates import normalise_plate
from lanes.policy.callforward import CALL_HOLDS_PAST_DEADLINE, CalledPlace
from lanes.similarity import index_keys
from lanes.visits import VisitTrack
from services.alerts.observations import (
    BOOKING_LOOKBACK,
    booking_change,
    sighting,
    stored_manifest,
    weigh_in,
)
from services.db.bookings import event_payload
from services.db.convert import decision_values, manifest_payload
from services.db.manifests import EventClock
from services.ports import GateStore, GateStores, TrackKey
from streams.weigh import WeighInMotionV1

CLOSED_ALERTS = frozenset({"dismissed"})
KEEP = timedelta(days=1)  # the replay's margin before the alert window (`MemoryGateData.keep`)


class DroppedState(LookupError):
    """A query reached back before the state `MemoryGateData.keep` dropped."""


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _hour(at: datetime) -> int:
    return int(at.timestamp() // 3600)


def _utc_or_none(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


def _track(t: VisitTrack) -> VisitTrack:
    return replace(t, first_seen_at=utc(t.first_seen_at), last_seen_at=utc(t.last_seen_at))


def _decision(d: LaneDecision) -> LaneDecision:
    return replace(
        d,
        decided_at=utc(d.decided_at),
        expected_start_at=_utc_or_none(d.expected_start_at),
        expected_done_at=_utc_or_none(d.expected_done_at),
    )


@dataclass
class _Alert:
    alert: Alert
    held_visit_id: str | None = None
    status: str = "open"
    published: bool = False
    released_by: str | None = None  # who released the held truck, when (event time), why
    released_at: datetime | None = None
    release_reason: str | None = None
    released_as: str | None = None  # "released" or "turned_away" (`streams.alerts.HoldEnd`)


@dataclass
class _Manifest:
    current: Manifest
    versions: list[ManifestVersion] = field(default_factory=list)


@dataclass
class _Window:
    """One gate's sightings in the alert rules' last look-back, kept as time goes on."""

    since: datetime
    now: datetime
    sightings: dict[str, Sighting] = field(default_factory=dict)  # by read event_id
    texts: dict[str, int] = field(default_factory=dict)  # plate text -> sightings showing it
    ahead: list[tuple[datetime, str]] = field(default_factory=list)  # read after `now`
    # manifest id -> the window's texts that are its tractor plate, as of `MemoryGateData.
    # manifest_changes` == `generation`; the versions last given and the ids they were of
    named: dict[str, int] = field(default_factory=dict)
    generation: int = -1
    given: tuple[int, frozenset[str], tuple[ManifestVersion, ...]] = (-1, frozenset(), ())

    def count(self, text: str, by: int, by_tractor: Mapping[str, set[str]]) -> None:
        n = self.texts[text] = self.texts.get(text, 0) + by
        if n == 0:
            del self.texts[text]
        if n == (1 if by > 0 else 0):  # the text came into the window or left it
            for manifest_id in by_tractor.get(text, ()):
                m = self.named[manifest_id] = self.named.get(manifest_id, 0) + by
                if m == 0:
                    del self.named[manifest_id]


@dataclass
class MemoryGateData:
    """What the memory adapter holds: the tables the deciding workers use, as containers."""

    reads: dict[str, dict[str, Any]] = field(default_factory=dict)
    # per gate, (captured_at, event_id) in order: the alert rules' range look-ups
    reads_by_time: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    manifests: dict[str, _Manifest] = field(default_factory=dict)
    plate_keys: dict[str, set[str]] = field(default_factory=dict)  # key -> manifest ids
    by_tractor: dict[str, set[str]] = field(default_factory=dict)  # plate -> manifest ids
    visits: dict[str, VisitTrack] = field(default_factory=dict)  # visit id -> visit
    # gate -> hour of last_seen_at -> visit ids: the recent visits without a scan
    visit_hours: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    sightings: dict[str, Sighting | None] = field(default_factory=dict)  # by read event_id
    clocks: dict[str, datetime] = field(default_factory=dict)  # gate -> newest last_seen_at
    tracks: dict[TrackKey, VisitTrack] = field(default_factory=dict)
    boards: dict[str, Board] = field(default_factory=dict)
    lane_events: set[str] = field(default_factory=set)
    held_events: dict[str, dict[str, Any]] = field(default_factory=dict)  # event_id -> row
    # held, then refused by the board when their time came: event_id -> row with `refused`
    refused_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    lane_event_rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # to hold
    lanes_open: dict[str, bool] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    active_bookings: set[str] = field(default_factory=set)  # booking ids
    booking_events: list[dict[str, Any]] = field(default_factory=list)
    booking_event_ids: set[str] = field(default_factory=set)
    # (occurred_at, event_id, index in booking_events), in order
    booking_event_times: list[tuple[datetime, str, int]] = field(default_factory=list)
    firm_stats: dict[tuple[str, str], int] = field(default_factory=dict)  # (firm, column)
    decisions: dict[str, LaneDecision] = field(default_factory=dict)  # visit_id -> current
    unpublished: set[str] = field(default_factory=set)  # visit ids
    subjects: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # -> visit ids
    alerts: dict[str, _Alert] = field(default_factory=dict)
    alert_subjects: dict[tuple[str | None, str], list[str]] = field(default_factory=dict)
    # per gate, (captured_at, event_id) in order
    weighings: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    # each weighing as the rules see it, made once: the incremental rules know it by identity
    weigh_ins: dict[str, WeighIn] = field(default_factory=dict)
    # per gate, the alert rules' last window and the reads stored since it was taken
    windows: dict[str, _Window] = field(default_factory=dict)
    arrived: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    manifest_changes: int = 0  # a manifest's version stored, or its plates re-indexed
    batches: int = 0
    # with `keep`: per gate, the event time before which reads and visits were dropped
    # (see the module's note), and the payloads of the reads dropped (compact JSON)
    keep: timedelta | None = None
    horizons: dict[str, datetime] = field(default_factory=dict)
    dropped_reads: dict[str, bytes] = field(default_factory=dict)
    # by gate, the calls call-forward made (the replay: those the recorded batch was told)
    called: dict[str, list[CalledPlace]] = field(default_factory=dict)

    def stores(self) -> GateStores:
        """Opens a "transaction" on this data (see the module's note on rollback)."""

        @asynccontextmanager
        async def transaction() -> AsyncIterator[GateStore]:
            yield MemoryGateStore(self)

        return transaction

    # -- what the replay feeds in (as `store_manifests`, the booking upsert and the
    # weigh-in intake store it on the database) --------------------------------------------
    def store_manifests(
        self,
        manifests: Sequence[Manifest],
        *,
        now: datetime,
        clock_at: datetime | EventClock | None = EventClock.NOW,
    ) -> None:
        """Create or version each manifest (identical content: unchanged; another firm's
        id: refused, as `services.db.manifests.store_manifests` does). `now`, the wall clock,
        is not kept; each new version counts for the rules from `clock_at` (by default the
        newest read decided at any gate, as `event_clock` does on the database)."""
        del now  # the database keeps it as `recorded_at`, for operations only
        from_clock = clock_at is EventClock.NOW
        clock = max(self.clocks.values(), default=None) if from_clock else clock_at
        assert not isinstance(clock, EventClock)
        for given in manifests:
            m = replace(
                given,
                window_start=_utc_or_none(given.window_start),
                window_end=_utc_or_none(given.window_end),
            )
            at = stored_at_clock(clock, m.window_end) if from_clock else clock
            counted_from = ManifestVersion.counted_from(None if at is None else utc(at))
            found = self.manifests.get(m.manifest_id)
            if found is not None and (found.current.firm_id != m.firm_id or found.current == m):
                continue
            version = 1 if found is None else len(found.versions) + 1
            stored = stored_manifest(manifest_payload(given), m.firm_id)
            if found is None:
                found = self.manifests[m.manifest_id] = _Manifest(m)
            else:
                self._unindex(found.current)
                found.current = m
            found.versions.append(ManifestVersion(stored, version, counted_from))
            self._index(m)
            self.manifest_changes += 1

    def _index(self, m: Manifest) -> None:
        for plate in (m.tractor_plate, m.trailer_plate):
            for key in index_keys(plate or ""):
                self.plate_keys.setdefault(key, set()).add(m.manifest_id)
        self.by_tractor.setdefault(m.tractor_plate, set()).add(m.manifest_id)

    def _unindex(self, m: Manifest) -> None:
        for plate in (m.tractor_plate, m.trailer_plate):
            for key in index_keys(plate or ""):
                self.plate_keys.get(key, set()).discard(m.manifest_id)
        self.by_tractor.get(m.tractor_plate, set()).discard(m.manifest_id)

    def apply_booking(
        self,
        payload: Mapping[str, Any],
        *,
        occurred_at: datetime,
        event_id: str | None,
        type_: str,
    ) -> None:
        """A firm's booking change, leaving the booking as its event describes it."""
        p = payload
        before = self.bookings.get(str(p["booking_id"]))
        self._put_booking(
            Booking(
                booking_id=str(p["booking_id"]),
                firm_id=str(p["firm_id"]),
                manifest_id=str(p["manifest_id"]),
                gate_id=str(p["gate_id"]),
                direction=Direction(p["direction"]),
                slot_start=utc(datetime.fromisoformat(p["slot_start"])),
                slot_end=utc(datetime.fromisoformat(p["slot_end"])),
                perishable=bool(p["perishable"]),
                status=BookingState(p["status"]),
                created_at=utc(occurred_at) if before is None else before.created_at,
                updated_at=utc(occurred_at),
                version=int(p["version"]),
            )
        )
        if event_id and event_id not in self.booking_event_ids:
            self._booking_event(event_id, str(p["booking_id"]), type_, dict(p), occurred_at)

    def _put_booking(self, booking: Booking) -> None:
        self.bookings[booking.booking_id] = booking
        if booking.status is BookingState.ACTIVE:
            self.active_bookings.add(booking.booking_id)
        else:
            self.active_bookings.discard(booking.booking_id)

    def _booking_event(
        self, event_id: str, booking_id: str, type_: str, payload: dict[str, Any], at: datetime
    ) -> None:
        self.booking_event_ids.add(event_id)
        bisect.insort(self.booking_event_times, (utc(at), event_id, len(self.booking_events)))
        self.booking_events.append(
            {
                "event_id": event_id,
                "booking_id": booking_id,
                "type": type_,
                "payload": payload,
                "occurred_at": utc(at),
            }
        )

    def drop_before(self, gate_id: str, horizon: datetime) -> None:
        """Drop the gate's reads captured before `horizon` (their payload kept compact for
        `stored_reads`) and its visits last seen before it; at most once an hour of event
        time (the horizon only moves on)."""
        before = self.horizons.get(gate_id)
        if before is not None and _hour(horizon) <= _hour(before):
            return
        self.horizons[gate_id] = horizon
        times = self.reads_by_time.get(gate_id, [])
        cut = bisect.bisect_left(times, (horizon, ""))
        for _, event_id in times[:cut]:
            row = self.reads.pop(event_id)
            self.sightings.pop(event_id, None)
            self.dropped_reads[event_id] = _compact(row["payload"])
        del times[:cut]
        hours = self.visit_hours.get(gate_id, {})
        for hour in [h for h in hours if h <= _hour(horizon)]:
            ids = hours[hour]
            for visit_id in [v for v in ids if self.visits[v].last_seen_at < horizon]:
                ids.discard(visit_id)
                del self.visits[visit_id]
            if not ids:
                del hours[hour]

    def reaches(self, gate_id: str, since: datetime, what: str) -> None:
        """Raise `DroppedState` when a query of the gate from `since` needs dropped state."""
        horizon = self.horizons.get(gate_id)
        if horizon is not None and since < horizon:
            raise DroppedState(f"{what} of {gate_id} since {since}: dropped before {horizon}")

    def add_weighing(self, w: WeighInMotionV1) -> None:
        if w.event_id in self.weigh_ins:
            return
        at, payload = utc(w.captured_at), w.model_dump(mode="json")
        self.weigh_ins[w.event_id] = weigh_in(
            event_id=w.event_id,
            station_id=str(payload["station_id"]),
            gate_id=w.gate_id,
            at=at,
            plate=normalise_plate(w.plate_text),
            gross_weight_kg=payload["gross_weight_kg"],
            payload=payload,
        )
        bisect.insort(self.weighings.setdefault(w.gate_id, []), (at, w.event_id))


def _compact(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class MemoryGateStore:
    def __init__(self, data: MemoryGateData) -> None:
        self.data = data

    async def lock_gates(self, gate_ids: Iterable[str]) -> None:
        return None  # one writer: the replay, or a test

    async def record_batch(
        self,
        worker: str,
        event_ids: Sequence[str],
        times: Sequence[datetime],
        *,
        watermark: datetime | None = None,
    ) -> None:
        if event_ids:
            self.data.batches += 1

    async def called_places(
        self, gate_id: str, *, since: datetime, until: datetime
    ) -> list[CalledPlace]:
        earliest = since - CALL_HOLDS_PAST_DEADLINE
        return [
            p
            for p in self.data.called.get(gate_id, [])
            if p.deadline >= earliest and p.called_at <= until
        ]

    # -- plate reads -------------------------------------------------------------------
    async def stored_reads(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        reads, dropped = self.data.reads, self.data.dropped_reads
        found = {e: dict(reads[e]["payload"]) for e in event_ids if e in reads}
        return found | {e: json.loads(dropped[e]) for e in event_ids if e in dropped}

    async def add_reads(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for row in rows:
            event_id = str(row["event_id"])
            if event_id in self.data.reads or event_id in self.data.dropped_reads:
                continue
            stored = dict(row) | {"captured_at": utc(row["captured_at"])}
            gate_id = str(row["gate_id"])
            horizon = self.data.horizons.get(gate_id)
            if horizon is not None and stored["captured_at"] < horizon:  # no window sees it
                self.data.dropped_reads[event_id] = _compact(row["payload"])
                continue
            self.data.reads[event_id] = stored
            bisect.insort(
                self.data.reads_by_time.setdefault(gate_id, []), (stored["captured_at"], event_id)
            )
            if gate_id in self.data.windows:
                self.data.arrived.setdefault(gate_id, []).append((stored["captured_at"], event_id))

    # -- manifests -----------------------------------------------------------------------
    async def manifests_for_keys(
        self, keys: Iterable[str], *, ended_after: datetime
    ) -> list[Manifest]:
        ids: set[str] = set()
        for key in keys:
            if key:
                ids |= self.data.plate_keys.get(key, set())
        found = []
        for manifest_id in sorted(ids):
            m = self.data.manifests[manifest_id].current
            if m.window_end is None or m.window_end >= ended_after:
                found.append(m)
        return found

    # -- visits --------------------------------------------------------------------------
    async def recent_visits(
        self, gate_id: str, *, since: datetime, until: datetime
    ) -> list[VisitTrack]:
        self.data.reaches(gate_id, since, "recent visits")
        hours = self.data.visit_hours.get(gate_id, {})
        if not hours:
            return []
        visits = self.data.visits
        found = []
        for hour in range(_hour(since), max(hours) + 1):
            for visit_id in hours.get(hour, ()):
                v = visits[visit_id]
                if v.last_seen_at >= since and v.first_seen_at <= until:
                    found.append(v)
        return found

    async def tracks(self, keys: Iterable[TrackKey]) -> dict[TrackKey, VisitTrack]:
        tracks = self.data.tracks
        return {k: tracks[k] for k in sorted(set(keys)) if k in tracks}

    async def add_visits(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for row in rows:
            self._put_visit(
                VisitTrack(
                    gate_id=str(row["gate_id"]),
                    plate=str(row["plate"]),
                    visit_id=str(row["visit_id"]),
                    direction=Direction(row["direction"]),
                    first_seen_at=utc(row["first_seen_at"]),
                    last_seen_at=utc(row["last_seen_at"]),
                    read_count=int(row["read_count"]),
                )
            )

    async def update_visits(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for row in rows:
            visit = self.data.visits.get(str(row["visit_id"]))
            if visit is None:
                # a visit first seen after every horizon was never dropped: truly not there
                for gate_id in self.data.horizons:
                    self.data.reaches(gate_id, utc(row["first_seen_at"]), "a visit")
                continue
            self._put_visit(
                replace(
                    visit,
                    first_seen_at=utc(row["first_seen_at"]),
                    last_seen_at=utc(row["last_seen_at"]),
                    read_count=int(row["read_count"]),
                )
            )

    def _put_visit(self, visit: VisitTrack) -> None:
        before = self.data.visits.get(visit.visit_id)
        hours = self.data.visit_hours.setdefault(visit.gate_id, {})
        if before is not None:
            hours[_hour(before.last_seen_at)].discard(visit.visit_id)
        hours.setdefault(_hour(visit.last_seen_at), set()).add(visit.visit_id)
        self.data.visits[visit.visit_id] = visit
        clock = self.data.clocks.get(visit.gate_id)
        if clock is None or visit.last_seen_at > clock:
            self.data.clocks[visit.gate_id] = visit.last_seen_at

    async def save_tracks(self, tracks: Iterable[VisitTrack]) -> None:
        for t in tracks:
            self.data.tracks[(t.gate_id, t.plate)] = _track(t)

    async def gate_clock(self, gate_id: str) -> datetime | None:
        return self.data.clocks.get(gate_id)

    # -- the board and lane events ------------------------------------------------------
    async def board(self, gate: Gate) -> Board:
        stored = self.data.boards.get(gate.gate_id)
        return Board.for_gate(gate) if stored is None else stored

    async def save_board(self, gate_id: str, board: Board, *, now: datetime) -> None:
        self.data.boards[gate_id] = board

    async def new_lane_events(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        fresh = {str(r["event_id"]) for r in rows} - self.data.lane_events
        self.data.lane_events |= fresh
        self.data.lane_event_rows = {str(r["event_id"]): dict(r) for r in rows}
        return fresh

    async def forget_lane_events(self, event_ids: Sequence[str]) -> None:
        self.data.lane_events -= set(event_ids)
        for event_id in event_ids:
            self.data.refused_events.pop(event_id, None)

    async def hold_lane_events(self, event_ids: Sequence[str]) -> None:
        for event_id in event_ids:
            self.data.held_events[event_id] = self.data.lane_event_rows[event_id]

    async def held_lane_events(self, gate_id: str, *, until: datetime) -> list[dict[str, Any]]:
        due = [
            r
            for r in self.data.held_events.values()
            if r["gate_id"] == gate_id and utc(r["at"]) <= until
        ]
        return sorted(due, key=lambda r: (utc(r["at"]), r["event_id"]))

    async def release_lane_events(self, event_ids: Sequence[str]) -> None:
        for event_id in event_ids:
            self.data.held_events.pop(event_id, None)

    async def refuse_lane_events(self, refusals: Sequence[tuple[str, str]]) -> None:
        for event_id, reason in refusals:  # held ones: held no longer, kept with the reason
            row = self.data.held_events.pop(event_id, None)
            if row is not None:
                self.data.refused_events[event_id] = dict(row) | {"refused": reason}

    async def refused_lane_events(self, *, limit: int) -> list[dict[str, Any]]:
        rows = sorted(
            self.data.refused_events.values(), key=lambda r: (utc(r["at"]), r["event_id"])
        )
        return rows[:limit]

    async def set_lane_open(self, lane_id: str, *, is_open: bool) -> None:
        self.data.lanes_open[lane_id] = is_open

    # -- bookings ------------------------------------------------------------------------
    async def booking_for_arrival(
        self, manifest_ids: Iterable[str], *, at: datetime, grace: timedelta
    ) -> dict[str, BookedSlot]:
        wanted = set(manifest_ids)
        if not wanted:
            return {}
        rows = self._active(lambda b: b.manifest_id in wanted)
        late = [b for b in rows if b.lost_at(at, grace)]
        self._expire(late, BookingState.LOST_LATE, at)
        return slots_at_arrival(rows, {b.booking_id for b in late})

    async def mark_used(self, manifest_ids: Iterable[str], *, at: datetime) -> int:
        wanted = set(manifest_ids)
        rows = self._active(lambda b: b.manifest_id in wanted)
        for before in rows:
            self._save_booking(before, before.used(at), "booking.used")
        return len(rows)

    async def expire_bookings(
        self, *, gate_id: str, now: datetime, grace: timedelta
    ) -> dict[str, int]:
        due = now - grace
        rows = self._active(lambda b: b.gate_id == gate_id and b.slot_end < due)
        return self._expire(rows, BookingState.NO_SHOW, now)

    def _active(self, wanted: Any) -> list[Booking]:
        bookings = self.data.bookings
        return sorted(
            (bookings[i] for i in self.data.active_bookings if wanted(bookings[i])),
            key=lambda b: b.booking_id,
        )

    def _expire(
        self, rows: Sequence[Booking], state: BookingState, now: datetime
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        for before in rows:
            after = before.no_show(now) if state is BookingState.NO_SHOW else before.lost_late(now)
            self._save_booking(before, after, f"booking.{state.value}")
            counts[after.firm_id] = counts.get(after.firm_id, 0) + 1
        column = "no_shows" if state is BookingState.NO_SHOW else "lost_late"
        for firm_id, n in counts.items():
            self.data.firm_stats[(firm_id, column)] = (
                self.data.firm_stats.get((firm_id, column), 0) + n
            )
        return counts

    def _save_booking(self, before: Booking, after: Booking, type_: str) -> None:
        stored = replace(after, version=before.version + 1, updated_at=utc(after.updated_at))
        self.data._put_booking(stored)
        payload = event_payload(after)
        event_id = f"memory-{len(self.data.booking_events) + 1}"
        self.data._booking_event(event_id, after.booking_id, type_, payload, after.updated_at)

    # -- decisions -----------------------------------------------------------------------
    async def add_decisions(self, decisions: Sequence[LaneDecision]) -> None:
        for d in decisions:
            if d.visit_id in self.data.decisions:
                continue
            self._put_decision(d)

    def _put_decision(self, d: LaneDecision) -> None:
        d = _decision(d)
        self.data.decisions[d.visit_id] = d
        self.data.unpublished.add(d.visit_id)
        for subject in (f"plate:{d.plate}", f"manifest:{d.manifest_id}" if d.manifest_id else ""):
            if subject:
                visits = self.data.subjects.setdefault((d.gate_id, subject), [])
                if d.visit_id not in visits:
                    visits.append(d.visit_id)

    async def revise_decisions(self, decisions: Sequence[LaneDecision]) -> None:
        for d in decisions:
            if d.visit_id in self.data.decisions:
                self._put_decision(d)

    async def decisions_for_visits(self, visit_ids: Sequence[str]) -> dict[str, LaneDecision]:
        found = self.data.decisions
        return {v: found[v] for v in visit_ids if v in found}

    async def latest_decision(self, gate_id: str, subject: str) -> LaneDecision | None:
        # the subject's visits at the gate (`_put_decision`; a revision keeps plate and
        # manifest): the newest decided_at, and among equals the smallest visit_id
        found = [self.data.decisions[v] for v in self.data.subjects.get((gate_id, subject), ())]
        if not found:
            return None
        newest = max(d.decided_at for d in found)
        return min((d for d in found if d.decided_at == newest), key=lambda d: d.visit_id)

    async def latest_decisions(
        self, gate_id: str, manifest_ids: Sequence[str]
    ) -> dict[str, LaneDecision]:
        found = {m: await self.latest_decision(gate_id, f"manifest:{m}") for m in manifest_ids}
        return {m: d for m, d in found.items() if d is not None}

    async def unpublished_decisions(self, limit: int) -> list[dict[str, Any]]:
        rows = sorted(
            (self.data.decisions[v] for v in self.data.unpublished),
            key=lambda d: (d.decided_at, d.decision_id),
        )
        return [decision_values(d) for d in rows[:limit]]

    async def mark_published(self, decision_ids: Sequence[str], *, at: datetime) -> None:
        wanted = set(decision_ids)
        self.data.unpublished -= {
            v for v in self.data.unpublished if self.data.decisions[v].decision_id in wanted
        }

    async def unmark_published_since(self, since: datetime) -> int:
        return 0  # nothing is kept of when a decision was published

    # -- risk alerts ---------------------------------------------------------------------
    async def observations(self, gate: Gate, rules: AlertRules, *, now: datetime) -> Observations:
        since = now - lookback(rules)
        data = self.data
        data.reaches(gate.gate_id, utc(since), "the alert window")
        window = self._window(gate, since=utc(since), now=now)
        if data.keep is not None:
            data.drop_before(gate.gate_id, utc(since) - data.keep)
        sightings = tuple(window.sightings.values())  # in no order: the rules sort them
        weighed = data.weighings.get(gate.gate_id, [])
        lo = bisect.bisect_left(weighed, (utc(since), ""))
        weighings = []
        for at, event_id in weighed[lo:]:
            if at > now:
                break
            weighings.append(data.weigh_ins[event_id])
        first = bisect.bisect_left(data.booking_event_times, (utc(now - BOOKING_LOOKBACK), ""))
        changes = tuple(
            c
            for _, _, n in data.booking_event_times[first:]
            if (e := data.booking_events[n])
            and (
                c := booking_change(
                    gate.gate_id,
                    event_id=e["event_id"],
                    booking_id=e["booking_id"],
                    type_=e["type"],
                    payload=e["payload"],
                    at=e["occurred_at"],
                )
            )
            is not None
        )
        # the manifests naming a plate the window's reads or the weighings show, and those
        # of the booking changes
        ids = set(window.named)
        ids |= {c.manifest_id for c in changes if c.manifest_id in data.manifests}
        for w in weighings:
            for plate in (w.plate, *w.alternatives):
                ids |= data.by_tractor.get(plate, set())
        key = frozenset(ids)
        if window.given[0] != data.manifest_changes or window.given[1] != key:
            window.given = (
                data.manifest_changes,
                key,
                tuple(v for i in sorted(ids) for v in data.manifests[i].versions),
            )
        versions = window.given[2]
        return Observations(
            sightings=sightings,
            manifests=versions,
            weighings=tuple(weighings),
            bookings=changes,
        )

    def _window(self, gate: Gate, *, since: datetime, now: datetime) -> _Window:
        """The gate's reads captured in [since, now], as sightings: the last window moved
        on (reads stored since it was taken come in, those older than `since` go out), or
        taken afresh when it cannot be (the first time, or a window that went back)."""
        data = self.data
        times = data.reads_by_time.get(gate.gate_id, [])
        window = data.windows.get(gate.gate_id)
        if window is None or since < window.since or now < window.now:
            window = data.windows[gate.gate_id] = _Window(since, now)
            data.arrived.pop(gate.gate_id, None)
            coming = times[bisect.bisect_left(times, (since, "")) :]
        else:
            coming = window.ahead + data.arrived.pop(gate.gate_id, [])
            going = times[
                bisect.bisect_left(times, (window.since, "")) : bisect.bisect_left(
                    times, (since, "")
                )
            ]
            for _, event_id in going:
                if (s := window.sightings.pop(event_id, None)) is not None:
                    for text in (s.plate, *s.alternatives):
                        window.count(text, -1, data.by_tractor)
            window.since, window.now = since, now
        window.ahead = []
        for at, event_id in coming:
            if at > now:
                window.ahead.append((at, event_id))
            elif at >= since and (s := self._sighting(gate, event_id, at)) is not None:
                window.sightings[event_id] = s
                for text in (s.plate, *s.alternatives):
                    window.count(text, 1, data.by_tractor)
        if window.generation != data.manifest_changes:  # the plates' manifests changed
            window.generation = data.manifest_changes
            window.named = {}
            for text in window.texts:
                for manifest_id in data.by_tractor.get(text, ()):
                    window.named[manifest_id] = window.named.get(manifest_id, 0) + 1
        return window

    def _sighting(self, gate: Gate, event_id: str, at: datetime) -> Sighting | None:
        data = self.data
        if event_id not in data.sightings:
            row = data.reads[event_id]
            data.sightings[event_id] = sighting(
                gate,
                event_id=event_id,
                camera_id=row["camera_id"],
                at=at,
                plate=row["plate"],
                plate_text=row["plate_text"],
                payload=row["payload"],
            )
        return data.sightings[event_id]

    async def add_alerts(self, alerts: Sequence[Alert], *, now: datetime) -> list[Alert]:
        fresh = [a for a in alerts if a.alert_id not in self.data.alerts]
        for a in fresh:
            self.data.alerts[a.alert_id] = _Alert(replace(a, raised_at=utc(a.raised_at)))
            self.data.alert_subjects.setdefault((a.gate_id, a.subject), []).append(a.alert_id)
        return fresh

    async def open_holds(self, gate_id: str, subjects: Sequence[str]) -> list[Alert]:
        alerts = self.data.alerts
        found = [
            a.alert
            for subject in set(subjects)
            for alert_id in self.data.alert_subjects.get((gate_id, subject), ())
            if (a := alerts[alert_id]).alert.hold and a.status not in CLOSED_ALERTS
        ]
        return sorted(found, key=lambda a: (a.raised_at, a.alert_id))

    async def set_held(self, alert_id: str, visit_id: str) -> None:
        held = self.data.alerts[alert_id]
        held.held_visit_id = visit_id
        held.released_by = held.released_at = held.release_reason = held.released_as = None

    async def unpublished_alerts(self, limit: int) -> list[dict[str, Any]]:
        rows = sorted(
            (a for a in self.data.alerts.values() if not a.published),
            key=lambda a: (a.alert.raised_at, a.alert.alert_id),
        )
        return [_alert_wire(a) for a in rows[:limit]]

    async def mark_alerts_published(self, alert_ids: Sequence[str], *, at: datetime) -> None:
        for alert_id in alert_ids:
            self.data.alerts[alert_id].published = True


def _alert_wire(a: _Alert) -> dict[str, Any]:
    alert = a.alert
    return {
        "alert_id": alert.alert_id,
        "change": "raised",
        "rule": alert.rule,
        "severity": alert.severity.value,
        "subject": alert.subject,
        "gate_id": alert.gate_id,
        "raised_at": alert.raised_at,
        "explanation": alert.explanation,
        "evidence": list(alert.evidence),
        "hold": alert.hold,
        "held_visit_id": a.held_visit_id,
        "released_by": a.released_by,
        "released_at": a.released_at,
        "release_reason": a.release_reason,
        "released_as": a.released_as,
        "status": a.status,
        "changed_by": None,
        "reason": None,
    }
