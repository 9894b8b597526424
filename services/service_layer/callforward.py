"""Call-forward's use case (issue 23), written once: step the waiting areas on a batch of
plate reads.

A read at a waiting area's camera (the area's `camera` in the gate file) that the decider's
matcher (`lanes.matching`, the same OCR-tolerant rules and margins) attributes to one open
manifest of the area's direction, customs-cleared, puts the truck in the area's queue (with
its booking, when the manifest has an active one: its page is the booking's); a read at any
other camera of the gate that names a queued truck's plate, or that the matcher attributes
to a queued truck's manifest, is the truck reaching the gate (a read taken no later than
its arrival in the area, handled late, is of an earlier pass: `_at_gate`); an area read (or
check-in) of it handled later, captured before that or within the area's `reentry` after it
(its camera's partition behind, a redelivered batch), queues it no more. A read the matcher cannot
attribute (unknown, ambiguous) queues nobody: the gate's decider and its review desk take
that truck as today. A booking's check-in (`booking.checked_in`: the firm says its truck is
in the area) queues the truck as a read at the area's camera would, at the check-in's time.
A lane event of the gate steps its queue to the event's time (`GateTime`).
Each read steps the gate's desk (`CallDesk`: the one `CallForwardPolicy`, as the
simulation) at the read's captured_at (event time only; a read later than one of another
camera already taken is taken at the queue's time) on the orchestrator's newest board; the
desk returns the calls, recalls and lost places it decides.

After the batch the queue of each gate it touched, every page it touched and the calls it
decided (the calls' outbox) are saved in the same transaction (`CallForwardStore`); the
calls are published on `borderflow.calls` once it commits (`CallPublisher`), so a call is
never out before the queue that made it and the page that follows its truck are saved. A
batch that fails (its transaction rolled back, or the commit refused) published nothing,
and the desks it touched are dropped: the runtime's retry reloads them from the store
rather than step again on a queue that was never saved. A handler made afresh (a restart)
reloads the queue from there too. The called places are saved with them, for the gate's
decider (`save_called`): each called truck's latest call, kept after the truck reached the
gate (the decider may take that read after this worker did) until its deadline is
`CALLED_KEEP` behind the queue, withdrawn when its place is lost; the decider sends a called
truck where its call sent it. Reads at cameras of no gate are not call-forward's (the
decider dead-letters them). The Kafka consumer (services/workers/callforward.py) calls it;
the composition root builds it on the database (services/bootstrap)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from lanes.board import Board
from lanes.bookings import arrival_status
from lanes.matching import Matcher, OcrMatcher, PlateIndex, read_texts
from lanes.model import (
    BookingStatus,
    Camera,
    Direction,
    Gate,
    Manifest,
    MatchOutcome,
    PlateRead,
    WaitingArea,
)
from lanes.plates import normalise_plate
from lanes.policy.callforward import (
    CALL_HOLDS_PAST_DEADLINE,
    CalledPlace,
    CallEvent,
    PlaceLost,
    TruckCalled,
)
from lanes.policy.truck import truck_from_manifest
from lanes.similarity import query_keys
from lanes.values import CameraRole
from services.ports import (
    CallDesk,
    CallForwardStore,
    CallForwardStores,
    CallPublisher,
    NewCallDesk,
    QueueSnapshot,
)
from services.service_layer.lane_events import LEAD

MANIFEST_LOOKBACK = timedelta(days=2)
# How long (event time) after its deadline a call whose truck reached the gate is kept for
# the gate's decider, which may take the gate's read after this worker did
CALLED_KEEP = 2 * CALL_HOLDS_PAST_DEADLINE
# How far (event time) behind the queue the time each truck reached the gate is kept: an
# area read of it handled up to this late is still known as that truck's (`_at_gate_since`)
REACHED_KEEP = timedelta(hours=1)
# What names a truck's manifest, whatever else the matcher found wrong with the truck there
# (its window, its customs status: `truck_from_manifest` still keeps a pending truck out)
_NAMED = frozenset({MatchOutcome.MATCHED, MatchOutcome.OUTSIDE_WINDOW, MatchOutcome.NOT_CLEARED})
# The cameras whose misread of a queued truck is still looked up (the matcher): the truck
# is at the gate, or entering a lane
_AT_GATE = frozenset({CameraRole.GATE_IN, CameraRole.LANE_ENTRY})


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """A booked truck checked in at its gate's waiting area (a `booking.checked_in` event),
    at `at`."""

    event_id: str
    booking_id: str
    firm_id: str
    manifest_id: str
    gate_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BookingCancelled:
    """A firm cancelled a booking (a `booking.cancelled` event) at `at`: its truck, if
    queued, is no longer to be called."""

    event_id: str
    booking_id: str
    firm_id: str
    manifest_id: str
    gate_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class GateTime:
    """Something happened at the gate at `at` (a lane event: a truck entered or left a
    lane, a lane opened or closed): the gate's queue is stepped to that time, so a lane
    freed calls the next truck, and a call overdue is recalled, without waiting for a plate
    read."""

    event_id: str
    gate_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StepWaitingAreas:
    """Step the waiting areas on `reads`, `check_ins` and `gate_times` (any order: taken by
    their event time, then event id). `received_at`: the wall clock, kept as the pages' and
    the queue's update time; it decides nothing."""

    reads: tuple[PlateRead, ...]
    received_at: datetime
    check_ins: tuple[CheckedIn, ...] = ()
    gate_times: tuple[GateTime, ...] = ()
    cancelled: tuple[BookingCancelled, ...] = ()


@dataclass
class CallForwardStats:
    reads: int = 0
    check_ins: int = 0
    gate_times: int = 0
    held: int = 0  # lane events' times more than LEAD ahead of the queue: not stepped to
    entered: int = 0
    at_gate: int = 0
    events: int = 0


@dataclass
class _GateDesk:
    desk: CallDesk
    plates: dict[str, str] = field(default_factory=dict)  # plate -> visit id, queued trucks
    pages: dict[str, str] = field(default_factory=dict)  # visit id -> page key
    stepped_to: datetime | None = None
    arrived: set[str] = field(default_factory=set)  # manifests at the gate since the save
    # manifest -> the call its truck held when it reached the gate, since the save (a call
    # made in the same batch was never saved: `_save` writes the waiting trucks' calls)
    reached_calls: dict[str, CalledPlace] = field(default_factory=dict)
    # manifest -> when its truck reached the gate (the gate read's captured_at), kept
    # `REACHED_KEEP` behind the queue
    reached: dict[str, datetime] = field(default_factory=dict)
    decided: list[CallEvent] = field(default_factory=list)  # calls since the save, in order


class StepWaitingAreasHandler:
    """Keeps each gate's desk across batches (its queue, the plates and pages of the
    queued trucks); the store has them after each batch, and the calls leave through
    `calls` once it committed."""

    def __init__(
        self,
        *,
        uow: CallForwardStores,
        gates: Mapping[str, Gate],
        new_desk: NewCallDesk,
        calls: CallPublisher,
        matcher: Matcher | None = None,
    ) -> None:
        """`calls`: the calls' outbox; `matcher`: the decider's (the composition root gives
        both the same)."""
        self.uow, self.gates, self.new_desk, self.calls = uow, gates, new_desk, calls
        self.matcher = matcher or OcrMatcher()
        self.stats = CallForwardStats()
        self._desks: dict[str, _GateDesk] = {}
        self._cameras: dict[str, tuple[Camera, WaitingArea | None]] = {}
        for gate in gates.values():
            areas = {a.camera_id: a for a in gate.waiting_areas}
            for camera in gate.cameras:
                self._cameras[camera.camera_id] = (camera, areas.get(camera.camera_id))

    async def __call__(self, cmd: StepWaitingAreas) -> None:
        reads = [r for r in cmd.reads if r.camera_id in self._cameras]
        check_ins = [c for c in cmd.check_ins if c.gate_id in self.gates]
        times = [t for t in cmd.gate_times if t.gate_id in self.gates]
        cancelled = [c for c in cmd.cancelled if c.gate_id in self.gates]
        before = replace(self.stats)
        self.stats.reads += len(reads)
        self.stats.check_ins += len(check_ins)
        self.stats.gate_times += len(times)
        items: list[PlateRead | CheckedIn | GateTime | BookingCancelled] = [
            *reads,
            *check_ins,
            *times,
            *cancelled,
        ]
        if not items:
            return
        items.sort(key=lambda i: (_time(i), i.event_id))
        gate_ids = {self._cameras[r.camera_id][0].gate_id for r in reads}
        gate_ids |= {c.gate_id for c in check_ins} | {t.gate_id for t in times}
        gate_ids |= {c.gate_id for c in cancelled}
        try:
            decided = await self._step(items, now=cmd.received_at)
        except BaseException:
            # rolled back (or its commit refused): the desks it stepped hold a queue never
            # saved; the retry reloads them from the store, and counts its items once
            for gate_id in gate_ids:
                self._desks.pop(gate_id, None)
            self.stats = before
            raise
        self.calls.committed()
        await self.calls.send(decided)

    async def _step(
        self, items: list[PlateRead | CheckedIn | GateTime | BookingCancelled], *, now: datetime
    ) -> list[CallEvent]:
        """One transaction: the items stepped, each touched gate's queue, pages and calls
        saved; returns the calls, in the order decided."""
        decided: list[CallEvent] = []
        async with self.uow() as store:
            await self.calls.mark_sent(store)
            touched: set[str] = set()
            for item in items:
                if isinstance(item, CheckedIn):
                    gate = self.gates[item.gate_id]
                    desk = await self._desk(store, gate)
                    await self._checked_in(store, desk, gate, item)
                elif isinstance(item, BookingCancelled):
                    gate = self.gates[item.gate_id]
                    desk = await self._desk(store, gate)
                    queued = _visit_of_manifest(desk, item.manifest_id)
                    if queued is None:
                        continue  # not in the area: nothing to withdraw
                    at = _step_time(desk, item.at)
                    desk.plates = {p: v for p, v in desk.plates.items() if v != queued}
                    events = await desk.desk.withdrawn(
                        queued, at=at, reason="booking cancelled by the firm: its place withdrawn"
                    )
                    self._after(desk, events, at)
                elif isinstance(item, GateTime):
                    gate = self.gates[item.gate_id]
                    desk = await self._desk(store, gate)
                    if not desk.desk.queue.waiting:
                        continue  # nobody waits: nothing to step, nothing to save
                    if _held(desk, item.at):
                        self.stats.held += 1
                        continue  # the boards hold it too: the reads will step the queue
                    at = _step_time(desk, item.at)
                    events = await desk.desk.step(now=at, board=await store.board(gate))
                    self._after(desk, events, at)
                else:
                    camera, area = self._cameras[item.camera_id]
                    gate = self.gates[camera.gate_id]
                    desk = await self._desk(store, gate)
                    if area is None and not desk.desk.queue.waiting:
                        if not await self._passed(store, desk, gate, camera, item):
                            continue  # nobody queued, nobody who may yet be: nothing to do
                    else:
                        await self._read(store, desk, gate, item, (camera, area))
                touched.add(gate.gate_id)
            for gate_id in sorted(touched):
                decided += await self._save(store, gate_id, now=now)
        return decided

    async def _read(
        self,
        store: CallForwardStore,
        desk: _GateDesk,
        gate: Gate,
        read: PlateRead,
        where: tuple[Camera, WaitingArea | None],
    ) -> None:
        camera, area = where
        plate = normalise_plate(read.plate_text)
        at = _step_time(desk, read.captured_at)
        board = await store.board(gate)
        if area is not None:
            if plate in desk.plates:
                events = await desk.desk.step(now=at, board=board)
            else:
                events = await self._entered(store, desk, gate, area, read, board)
        elif (visit_id := await self._queued(store, desk, camera, read)) is not None:
            events = await self._at_gate(desk, gate, camera, visit_id, read, board)
        else:
            await self._passed(store, desk, gate, camera, read)
            events = await desk.desk.step(now=at, board=board)
        self._after(desk, events, at)

    async def _at_gate(  # noqa: PLR0917 (one read's whole context)
        self,
        desk: _GateDesk,
        gate: Gate,
        camera: Camera,
        visit_id: str,
        read: PlateRead,
        board: Board,
    ) -> list[CallEvent]:
        """A read at another camera of the gate of the queued truck `visit_id`: the truck
        reached the gate, unless the read was taken no later than the truck's arrival in the
        area (a gate read handled after a later area read: its camera's partition behind).
        Such a read is of an earlier pass: at a gate-in or lane-entry camera it is kept as
        when the truck reached the gate (as `_passed` keeps one), and when the arrival came
        less than the area's `reentry` after it, the arrival was the truck that had left the
        area, as `_at_gate_since` says when the gate read is handled first: out of the queue
        as if never queued (`CallDesk.unqueued`: no call held for it for the decider, nothing
        announced, its page at the gate since then). A call made before the gate read was
        handled is out and stays out. An arrival after that (the truck came back) stays
        queued. Until 2026-12-06 late any such read was the truck reaching the gate at the
        queue's time: the outcome hung on which read was handled first."""
        at = _step_time(desk, read.captured_at)
        waiting = desk.desk.queue.find(visit_id)
        manifest_id = None if waiting is None else waiting.truck.manifest_id
        if waiting is None or read.captured_at > waiting.truck.arrived_at:
            desk.plates = {p: v for p, v in desk.plates.items() if v != visit_id}
            if manifest_id is not None:
                desk.arrived.add(manifest_id)
                desk.reached[manifest_id] = read.captured_at
            if waiting is not None and (held := _called_place(manifest_id, waiting.call)):
                desk.reached_calls[held.manifest_id] = held  # saved before or not
            desk.desk.use_board(board)
            self.stats.at_gate += 1
            return await desk.desk.reached_gate(visit_id, at=at)
        if camera.role not in _AT_GATE or manifest_id is None:
            return await desk.desk.step(now=at, board=board)
        _keep_reached(desk, manifest_id, read.captured_at)
        area = gate.waiting_area(waiting.truck.direction)
        if area is None or waiting.truck.arrived_at >= read.captured_at + area.reentry:
            return await desk.desk.step(now=at, board=board)
        desk.plates = {p: v for p, v in desk.plates.items() if v != visit_id}
        return await desk.desk.unqueued(visit_id, reached=read.captured_at, now=at, board=board)

    async def _passed(
        self,
        store: CallForwardStore,
        desk: _GateDesk,
        gate: Gate,
        camera: Camera,
        read: PlateRead,
    ) -> bool:
        """A read at the gate of a truck not queued, in a direction with a waiting area:
        the manifest the matcher names is kept as having reached the gate then, so that an
        area read of its truck handled afterwards (taken after the gate read, or before it
        and delivered late) does not queue and call a truck already at the gate
        (`_at_gate_since`). True when one was kept."""
        if camera.role not in _AT_GATE or gate.waiting_area(camera.direction) is None:
            return False
        manifest = await self._named(store, read, camera.direction)
        if manifest is None:
            return False
        _keep_reached(desk, manifest.manifest_id, read.captured_at)
        return True

    def _after(self, desk: _GateDesk, events: list[CallEvent], at: datetime) -> None:
        """What a step decided: a truck that lost its place is no longer queued."""
        for event in events:
            if isinstance(event, PlaceLost):
                desk.plates = {p: v for p, v in desk.plates.items() if v != event.visit_id}
        desk.decided += events
        self.stats.events += len(events)
        desk.stepped_to = at

    async def _entered(  # noqa: PLR0917 (one read's whole context)
        self,
        store: CallForwardStore,
        desk: _GateDesk,
        gate: Gate,
        area: WaitingArea,
        read: PlateRead,
        board: Board,
    ) -> list[CallEvent]:
        manifest = await self._named(store, read, area.direction)
        if manifest is None:
            # nobody's, or two trucks too close to tell (the gate's decider sorts it out)
            return await desk.desk.step(now=_step_time(desk, read.captured_at), board=board)
        arrival = (read.event_id, read.captured_at)
        return await self._enter(store, desk, gate, area, manifest, arrival, board)

    async def _checked_in(
        self, store: CallForwardStore, desk: _GateDesk, gate: Gate, check_in: CheckedIn
    ) -> None:
        """A booked truck checked in at the area: queued as if the area's camera read it."""
        board = await store.board(gate)
        manifest = await store.manifest(check_in.firm_id, check_in.manifest_id)
        area = None if manifest is None else gate.waiting_area(manifest.direction)
        if manifest is None or area is None:
            events = await desk.desk.step(now=_step_time(desk, check_in.at), board=board)
        else:
            events = await self._enter(
                store, desk, gate, area, manifest, (check_in.event_id, check_in.at), board
            )
        self._after(desk, events, _step_time(desk, check_in.at))

    async def _enter(  # noqa: PLR0917 (one arrival's whole context)
        self,
        store: CallForwardStore,
        desk: _GateDesk,
        gate: Gate,
        area: WaitingArea,
        manifest: Manifest,
        arrival: tuple[str, datetime],
        board: Board,
    ) -> list[CallEvent]:
        """The manifest's truck is in the area since `arrival` (the event's id and time):
        queued, unless it already is (read again, perhaps misread otherwise, or checked in
        and read), it reached the gate since (`_at_gate_since`) or its customs are pending
        (a later read tries again)."""
        event_id, at = arrival
        now = _step_time(desk, at)
        if _visit_of(desk, manifest) is not None or _at_gate_since(desk, area, manifest, at):
            return await desk.desk.step(now=now, board=board)
        plate = normalise_plate(manifest.tractor_plate)
        visit_id = f"wa-{event_id}"
        page_key, status = await self._booking(store, gate, manifest.manifest_id, at)
        truck = truck_from_manifest(visit_id, manifest, arrived_at=at, booking=status)
        if truck is None:  # customs pending: not called yet (a later read tries again)
            return await desk.desk.step(now=now, board=board)
        desk.plates[plate] = visit_id
        desk.pages[visit_id] = page_key or visit_id
        desk.desk.use_board(board)
        self.stats.entered += 1
        return await desk.desk.entered(truck, at=now)

    async def _named(
        self, store: CallForwardStore, read: PlateRead, direction: Direction
    ) -> Manifest | None:
        """The open manifest the read names, as the decider's matcher would attribute a visit
        of this one read (OCR errors, the read's alternatives and confidences weighed the
        same way); None when it names none, or two too close to tell apart."""
        keys = {k for text in read_texts(read) for k in query_keys(text.text)}
        if not keys:
            return None
        found = await store.manifests_for_keys(
            keys, ended_after=read.captured_at - MANIFEST_LOOKBACK
        )
        if not found:
            return None
        result = self.matcher.match(
            [read], direction=direction, index=PlateIndex(found), now=read.captured_at
        )
        if result.outcome not in _NAMED or result.manifest is None:
            return None
        return result.manifest if result.manifest.direction is direction else None

    async def _queued(
        self, store: CallForwardStore, desk: _GateDesk, camera: Camera, read: PlateRead
    ) -> str | None:
        """The queued truck a read at one of the gate's other cameras is: its plate as
        queued, or the manifest the matcher attributes the read to (a misread at the gate's
        camera still lets the truck reach the gate, rather than be recalled and lose its
        place while it stands there)."""
        visit_id = desk.plates.get(normalise_plate(read.plate_text))
        if visit_id is not None:
            return visit_id
        if camera.role not in _AT_GATE or not any(
            w.truck.direction is camera.direction for w in desk.desk.queue.waiting
        ):
            return None  # the exit's reads are of trucks past the gate: not looked up
        manifest = await self._named(store, read, camera.direction)
        return None if manifest is None else _visit_of(desk, manifest)

    async def _booking(
        self, store: CallForwardStore, gate: Gate, manifest_id: str, at: datetime
    ) -> tuple[str | None, BookingStatus]:
        """The booking's page key (None: a walk-in's page is its visit's) and the truck's
        arrival status."""
        if gate.booking is None:
            return None, BookingStatus.WALK_IN
        booking = await store.active_booking(gate.gate_id, manifest_id)
        if booking is None:
            return None, BookingStatus.WALK_IN
        status = arrival_status(booking.slot_start, booking.slot_end, at, rules=gate.booking)
        return booking.page_key, status

    async def _desk(self, store: CallForwardStore, gate: Gate) -> _GateDesk:
        found = self._desks.get(gate.gate_id)
        if found is not None:
            return found
        state = _GateDesk(self.new_desk(gate, await store.board(gate)))
        saved = await store.queue(gate.gate_id)
        if saved is not None:
            state.desk.queue = saved.queue
            state.plates = dict(saved.plates)
            state.pages = dict(saved.pages)
            state.stepped_to = saved.stepped_to
            state.reached = dict(saved.reached)
        self._desks[gate.gate_id] = state
        return state

    async def _save(
        self, store: CallForwardStore, gate_id: str, *, now: datetime
    ) -> list[CallEvent]:
        """Write the gate's queue, pages, called places and calls; returns the calls added
        (a call id already in the outbox is not sent again)."""
        state = self._desks[gate_id]
        desk = state.desk
        queued = {w.truck.visit_id for w in desk.queue.waiting}
        pages = {v: k for v, k in state.pages.items() if v in queued}
        if state.stepped_to is not None:
            behind = state.stepped_to - REACHED_KEEP
            state.reached = {m: at for m, at in state.reached.items() if at >= behind}
        snapshot = QueueSnapshot(
            queue=desk.queue,
            plates={p: v for p, v in state.plates.items() if v in queued},
            pages=pages,
            stepped_to=state.stepped_to,
            reached=dict(state.reached),
        )
        states = desk.page_states()
        await store.save_pages(
            {state.pages.get(v, v): data for v, data in states.items()},
            visits={state.pages.get(v, v): v for v in states},
            now=now,
        )
        desk.pages_written()  # written: the next batch writes only what changes
        state.pages = pages
        await store.save_queue(gate_id, snapshot, now=now)
        calls = [
            place
            for w in desk.queue.waiting
            if (place := _called_place(w.truck.manifest_id, w.call)) is not None
        ]
        keep = None if state.stepped_to is None else state.stepped_to - CALLED_KEEP
        await store.save_called(
            gate_id,
            calls,
            arrived=state.arrived,
            reached=list(state.reached_calls.values()),
            purge_before=keep,
            now=now,
        )
        state.arrived, state.reached_calls = set(), {}
        decided, state.decided = state.decided, []
        return await store.add_calls(decided, now=now)


def _called_place(manifest_id: str | None, call: TruckCalled | None) -> CalledPlace | None:
    """A truck's call as the gate's decider is told it; None: not called, or called to a
    carrier slot (no lane), or no manifest."""
    if call is None or call.lane_id is None or not manifest_id:
        return None
    return CalledPlace(manifest_id, call.lane_id, call.call_id, call.called_at, call.deadline)


def _visit_of(desk: _GateDesk, manifest: Manifest) -> str | None:
    """The queued truck of this manifest, if any."""
    return _visit_of_manifest(desk, manifest.manifest_id)


def _at_gate_since(desk: _GateDesk, area: WaitingArea, manifest: Manifest, at: datetime) -> bool:
    """The manifest's truck reached the gate after `at`, or less than the area's `reentry`
    before it (a truck turned away drives out and back through the area, which takes
    longer): an area read of it at `at`, handled late (its camera's partition behind the
    gate camera's, or a redelivered batch), or its check-in, is of the truck that already
    left the area, not a new arrival. A read later than that is the matcher's to attribute,
    as any arrival (a truck turned away and back, or a new crossing of its manifest). Until
    2026-12-06 the window was the decider's `Gate.visit_window` (10 minutes too), so a gate
    file grouping reads at the gate otherwise changed what call-forward takes for an
    arrival."""
    reached = desk.reached.get(manifest.manifest_id)
    return reached is not None and at < reached + area.reentry


def _keep_reached(desk: _GateDesk, manifest_id: str, at: datetime) -> None:
    """The manifest's truck was read at the gate at `at`: kept, unless a later read is."""
    known = desk.reached.get(manifest_id)
    if known is None or known < at:
        desk.reached[manifest_id] = at


def _visit_of_manifest(desk: _GateDesk, manifest_id: str) -> str | None:
    return next(
        (w.truck.visit_id for w in desk.desk.queue.waiting if w.truck.manifest_id == manifest_id),
        None,
    )


def _step_time(desk: _GateDesk, at: datetime) -> datetime:
    """The event time to step the queue to: the read's or the check-in's (`at`), never
    before what the queue was already stepped to (reads of other cameras come on other
    partitions, a little out of order; a late read still counts, at the queue's time)."""
    return at if desk.stepped_to is None else max(at, desk.stepped_to)


def _held(desk: _GateDesk, at: datetime) -> bool:
    """A lane event's time more than `LEAD` ahead of what the queue was stepped to: the
    decider's boards hold such an event until the gate's reads reach it (a gateway whose
    clock is off, a later day's events sent first), so the queue is not stepped to it
    either (it was: a lane closed a year ahead recalled every waiting truck at once and
    dated every later call a year on). The queue's time stands for the gate's reads here
    (it is moved by reads and by lane events within the lead)."""
    return desk.stepped_to is not None and at > desk.stepped_to + LEAD


def _time(item: PlateRead | CheckedIn | GateTime | BookingCancelled) -> datetime:
    return item.captured_at if isinstance(item, PlateRead) else item.at
