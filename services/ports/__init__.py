"""The ports: small Protocols the use cases (services/service_layer/) call and the adapters
implement, each with a SQLAlchemy adapter and an in-memory one: the booking use cases'
(services/adapters/sql_bookings.py, memory_bookings.py), and the gate's state the deciding
use cases keep (`GateStore`: services/adapters/sql_gate.py, memory_gate.py), the
manifests (`ManifestStore`), call-forward's state, desk and outbox (`CallForwardStore`,
`CallDesk`, `CallPublisher`), the weighings (`WeighingStore`); the notifier and the calls to
notify are in `calls.py`. A package below the adapters, so that neither the use cases nor
the adapters import upwards."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from lanes.actions import PendingLaneChange
from lanes.alert_rules import AlertRules
from lanes.alerts import Alert, Observations
from lanes.board import Board, Truck
from lanes.booking import Booking, ManifestTerms
from lanes.bookings import BookedSlot, SlotCapacity
from lanes.filing import StoreResult
from lanes.model import Gate, LaneDecision, Manifest
from lanes.policy.callforward import AreaQueue, CalledPlace, CallEvent
from lanes.visits import VisitTrack


@dataclass(frozen=True, slots=True)
class EarlierRequest:
    """What an earlier request with the same idempotency key was, and was answered."""

    request_hash: str
    booking_id: str | None
    status_code: int
    response: dict[str, Any] | None


class BookingStore(Protocol):
    """Bookings, slot places and the booking events, inside one transaction."""

    async def manifest_cargo(self, firm_id: str, manifest_id: str) -> ManifestTerms | None:
        """What a booking takes from the firm's manifest (direction, perishable, crossing
        window); None: no such one."""

    async def add(self, booking: Booking) -> bool:
        """Store a new booking; False when its manifest already has an active one."""

    async def active_booking_id(self, manifest_id: str) -> str | None: ...

    async def get(
        self, firm_id: str, booking_id: str, *, for_update: bool = False
    ) -> Booking | None:
        """The firm's booking (locked for this transaction when `for_update`); None for a
        missing id and for another firm's alike."""

    async def take_place(self, booking: Booking, slot_start: datetime, cap: SlotCapacity) -> bool:
        """One place for `booking` in the slot at `slot_start`; False when it is full."""

    async def release_place(self, booking: Booking) -> None:
        """Give back the place `booking` holds in its slot."""

    async def save(self, before: Booking, after: Booking) -> None:
        """Write `after` if the stored booking is still `before` (its version)."""

    async def firm_of(self, booking_id: str) -> str | None:
        """The firm holding the booking; None when there is none."""

    async def last_check_in(self, booking_id: str) -> datetime | None:
        """When the booking's truck last checked in (its latest `booking.checked_in`)."""

    async def record_event(
        self, booking: Booking, type_: str, *, occurred_at: datetime | None = None, **extra: Any
    ) -> None:
        """An event of the booking for the outbox; `occurred_at` defaults to its
        `updated_at` (the change's time)."""
        """A booking event, into the outbox of this transaction."""


class IdempotencyKeys(Protocol):
    async def claim(
        self, firm_id: str, key: str, request_hash: str, now: datetime
    ) -> EarlierRequest | None:
        """None: the key is ours now; else the earlier request that used it."""

    async def answer(
        self, firm_id: str, key: str, booking_id: str, status_code: int, response: Mapping[str, Any]
    ) -> None:
        """Keep the answer given under the key, for a retry."""


class DriverPages(Protocol):
    async def booked(
        self,
        booking_id: str,
        now: datetime,
        *,
        phone: str | None = None,
        slot: tuple[datetime, datetime] | None = None,
    ) -> None:
        """The driver's page of a new booking ("booked"), with the driver's mobile when the
        firm gave it and the booked slot's start and end in the gate's local time (their
        offset is the gate's: the page shows them as they are); whether the gate has a
        waiting area for it is said when the page is read, from the gate file then."""

    async def moved(self, booking_id: str, slot: tuple[datetime, datetime], now: datetime) -> None:
        """A rescheduled booking's page shows its new slot (gate local time) while it still
        says "booked" (with or without a waiting area, as it was booked)."""

    async def cancelled(self, booking_id: str, now: datetime) -> None:
        """The page of a cancelled booking says so ("cancelled") while it still says
        "booked"; a truck already queued has its lost place worded by the call-forward
        worker."""


class BookingUnitOfWork(Protocol):
    """One transaction of the booking use cases: nothing is kept unless `commit` is called
    (leaving the block without it rolls back)."""

    @property
    def bookings(self) -> BookingStore: ...

    @property
    def idempotency(self) -> IdempotencyKeys: ...

    @property
    def driver_pages(self) -> DriverPages: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class EventPublisher(Protocol):
    """Publishes the events a committed transaction recorded (the booking outbox relay)."""

    def wake(self) -> None: ...


TrackKey = tuple[str, str]  # (gate_id, plate)


class GateStore(Protocol):
    """A gate's state as the deciding workers read and write it, inside one transaction:
    the decider (`services/workers/decider.py`), its alert step, the lane-event worker and
    the outboxes of their decisions and alerts. Two adapters: the database
    (`services/adapters/sql_gate.py`) and memory (`services/adapters/memory_gate.py`, the
    unit tests and the replay). Times come back timezone-aware in UTC."""

    # -- the batch -----------------------------------------------------------------------
    async def lock_gates(self, gate_ids: Iterable[str]) -> None:
        """Take the gates' write locks before reading any of their state."""

    async def record_batch(
        self,
        worker: str,
        event_ids: Sequence[str],
        times: Sequence[datetime],
        *,
        watermark: datetime | None = None,
    ) -> None:
        """Note a deciding worker's batch for the replay (its events, what it could see,
        its input's watermark: streams/watermark.py)."""

    # -- plate reads ---------------------------------------------------------------------
    async def stored_reads(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored wire form of each read of `event_ids` already received."""

    async def add_reads(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Plate reads (the `plate_reads` columns); one already stored is left as it is."""

    # -- manifests -----------------------------------------------------------------------
    async def manifests_for_keys(
        self, keys: Iterable[str], *, ended_after: datetime
    ) -> list[Manifest]:
        """The manifests filed under any of `keys` whose window is open-ended or ends at or
        after `ended_after`, each once, by id."""

    # -- visits --------------------------------------------------------------------------
    async def recent_visits(
        self, gate_id: str, *, since: datetime, until: datetime
    ) -> list[VisitTrack]:
        """The gate's visits seen within [since, until]."""

    async def tracks(self, keys: Iterable[TrackKey]) -> dict[TrackKey, VisitTrack]:
        """The current visit of each (gate, plate) that has one."""

    async def add_visits(self, rows: Sequence[Mapping[str, Any]]) -> None: ...

    async def update_visits(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows of visit_id, first_seen_at, last_seen_at, read_count."""

    async def save_tracks(self, tracks: Iterable[VisitTrack]) -> None: ...

    # -- calls (issue 23) ------------------------------------------------------------------
    async def called_places(
        self, gate_id: str, *, since: datetime, until: datetime
    ) -> list[CalledPlace]:
        """The gate's calls (call-forward's, each manifest's latest) that may name a truck
        reaching the gate within [since, until], by manifest; the batch's record keeps
        what it was told, so the replay is told the same."""

    async def gate_clock(self, gate_id: str) -> datetime | None:
        """The newest `last_seen_at` of the gate's visits (its event-time clock)."""

    # -- the gate's board and lane events ------------------------------------------------
    async def board(self, gate: Gate) -> Board:
        """The gate's board as stored, or an empty one before the first write."""

    async def save_board(self, gate_id: str, board: Board, *, now: datetime) -> None: ...

    async def new_lane_events(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        """Record lane events; returns the event_ids not seen before."""

    async def forget_lane_events(self, event_ids: Sequence[str]) -> None:
        """Unrecord lane events that were not applied (the board refused them): sent again
        (a redrive of their dead letters), they are applied then, not taken as seen."""

    async def hold_lane_events(self, event_ids: Sequence[str]) -> None:
        """Keep recorded lane events to be applied when the gate's reads reach them."""

    async def held_lane_events(self, gate_id: str, *, until: datetime) -> list[dict[str, Any]]:
        """The gate's held lane events dated up to `until` (event_id, gate_id, kind, at,
        payload), in (at, event_id) order."""

    async def release_lane_events(self, event_ids: Sequence[str]) -> None:
        """Held lane events applied (or refused by the board) now: held no longer."""

    async def refuse_lane_events(self, refusals: Sequence[tuple[str, str]]) -> None:
        """Held lane events the board refused when their time came, (event_id, reason):
        kept until dead-lettered."""

    async def refused_lane_events(self, *, limit: int) -> list[dict[str, Any]]:
        """Refused lane events waiting to be dead-lettered (event_id, gate_id, kind, at,
        payload, refused), oldest first."""

    async def set_lane_open(self, lane_id: str, *, is_open: bool) -> None: ...

    # -- bookings at the gate ------------------------------------------------------------
    async def booking_for_arrival(
        self, manifest_ids: Iterable[str], *, at: datetime, grace: timedelta
    ) -> dict[str, BookedSlot]:
        """The active booking of each manifest with one, for a truck arriving at `at`; one
        more than `grace` late is marked lost (and comes back so)."""

    async def mark_used(self, manifest_ids: Iterable[str], *, at: datetime) -> int: ...

    async def expire_bookings(
        self, *, gate_id: str, now: datetime, grace: timedelta
    ) -> dict[str, int]:
        """Active bookings whose slot ended more than `grace` before `now` become no-shows;
        returns {firm_id: no-shows marked now}."""

    # -- decisions and their outbox ------------------------------------------------------
    async def add_decisions(self, decisions: Sequence[LaneDecision]) -> None:
        """New decisions (one a visit: a visit that has one keeps it), unpublished."""

    async def revise_decisions(self, decisions: Sequence[LaneDecision]) -> None:
        """Replace each visit's decision by its revision, unpublished again."""

    async def decisions_for_visits(self, visit_ids: Sequence[str]) -> dict[str, LaneDecision]: ...

    async def latest_decision(self, gate_id: str, subject: str) -> LaneDecision | None:
        """The newest decision at the gate about `plate:...` or `manifest:...`."""

    async def latest_decisions(
        self, gate_id: str, manifest_ids: Sequence[str]
    ) -> dict[str, LaneDecision]:
        """`latest_decision` of each manifest, in one look-up: those with a decision."""

    async def unpublished_decisions(self, limit: int) -> list[dict[str, Any]]:
        """The oldest decisions not yet published, as their wire values."""

    async def mark_published(self, decision_ids: Sequence[str], *, at: datetime) -> None: ...

    async def unmark_published_since(self, since: datetime) -> int: ...

    # -- risk alerts ---------------------------------------------------------------------
    async def observations(self, gate: Gate, rules: AlertRules, *, now: datetime) -> Observations:
        """What the alert rules read for the gate up to `now`."""

    async def add_alerts(self, alerts: Sequence[Alert], *, now: datetime) -> list[Alert]:
        """Store the alerts not stored yet (by id); returns those, in the given order."""

    async def open_holds(self, gate_id: str, subjects: Sequence[str]) -> list[Alert]:
        """The open holding alerts about any of `subjects`, oldest first (raised_at, then
        alert_id)."""

    async def set_held(self, alert_id: str, visit_id: str) -> None: ...

    async def unpublished_alerts(self, limit: int) -> list[dict[str, Any]]:
        """The oldest alerts not yet published, as their wire values."""

    async def mark_alerts_published(self, alert_ids: Sequence[str], *, at: datetime) -> None: ...


# Opens one transaction on the gate's state: committed when the block ends normally.
GateStores = Callable[[], AbstractAsyncContextManager[GateStore]]


class DecisionPublisher(Protocol):
    """The decision outbox (services/adapters/decision_outbox.py), one per process, built
    in the composition root: decisions are stored unpublished in the deciding transaction,
    sent after it commits, and marked published in the next one."""

    published: int

    async def mark_sent(self, store: GateStore) -> None:
        """Mark what was sent since the last batch as published, in `store`'s transaction."""

    def committed(self) -> None:
        """The transaction that ran `mark_sent` committed."""

    async def send(self, decisions: Sequence[LaneDecision]) -> None:
        """Publish a committed batch's decisions."""

    async def drain(self) -> int:
        """Publish every decision not yet published; returns how many."""

    async def republish_since(self, since: datetime) -> None:
        """The broker came back empty: publish again what was published since `since`."""

    async def publish_now(self, decisions: Sequence[LaneDecision]) -> None:
        """Send and mark a committed transaction's decisions at once (a process with no
        next batch to mark them in); a broker error leaves them to the next drain."""


class AlertPublisher(Protocol):
    """The alert outbox (services/alerts/outbox.py): `dirty` says there is something to send."""

    dirty: bool

    async def drain(self) -> int: ...


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, where, to what and why; `at`: the wall clock."""

    actor: str
    action: str
    gate_id: str
    target: str
    reason: str
    details: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class AlertState:
    """A stored alert as the controllers' workflow sees it."""

    alert_id: str
    gate_id: str | None
    rule: str
    subject: str
    severity: str
    status: str


@dataclass(frozen=True, slots=True)
class AlertViews:
    """An alert as the control room's API shows it (`shown`), and its event's fields
    (`wire`: the `borderflow.alerts` record but its `audit_seq`)."""

    shown: Mapping[str, Any]
    wire: Mapping[str, Any]


class ControlStore(GateStore, Protocol):
    """The gate's state as the control room's actions read and write it: the deciding
    workers' (`GateStore`), with the visits and manifests an action names, and the audit
    log its entry goes to (in the same transaction)."""

    async def visit(self, visit_id: str) -> VisitTrack | None: ...

    async def manifest(self, manifest_id: str) -> Manifest | None: ...

    async def audit(self, entry: AuditEntry) -> int:
        """Append `entry` to the audit log (the hash chain); returns its `seq`."""

    async def pending_lane_change(
        self,
        gate_id: str,
        lane_id: str,
        *,
        since: datetime,
        actions: tuple[str, str] = ("open_lane", "close_lane"),
    ) -> PendingLaneChange | None:
        """The newest of `actions` (the one that opens, the one that closes: a lane's, or a
        carrier's `carrier_back`, `carrier_out`) on `lane_id` (a carrier's id) audited since
        `since` (wall clock) whose lane event the board has not applied yet; None if there is
        none."""

    async def alert_state(self, alert_id: str) -> AlertState | None:
        """The alert, locked for this transaction; None: no such alert."""

    async def set_alert_status(
        self, alert_id: str, *, status: str, by: str, reason: str, at: datetime
    ) -> None: ...

    async def alert_views(self, alert_id: str, *, change: str) -> AlertViews:
        """The alert as it now stands, shown and as the event of `change`."""

    async def release_holds(
        self, visit_id: str, *, by: str, reason: str, at: datetime, ended: str = "released"
    ) -> list[AlertViews]:
        """Mark the alerts (not dismissed) holding the truck of `visit_id` released by `by`
        at `at` (event time), as `ended` ("released": placed; "turned_away": refused
        entry); returns them as they now stand, each as its `ended` event, oldest first."""


ControlStores = Callable[[], AbstractAsyncContextManager[ControlStore]]


class ManifestStore(Protocol):
    """The firms' manifests, inside one transaction (the manifest intake's unit of work:
    `services/adapters/manifest_intake.py`, `memory_manifests.py`)."""

    async def file(
        self,
        manifests: Sequence[Manifest],
        *,
        source: str,
        now: datetime,
        firm_scope: str | None = None,
    ) -> list[StoreResult]:
        """Create or version `manifests`, one result each, in order: identical content is
        unchanged, another firm's id refused (with `firm_scope`, any other firm's)."""


# Opens one transaction on the manifests: committed when the block ends normally.
ManifestStores = Callable[[], AbstractAsyncContextManager[ManifestStore]]


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """A gate's waiting-area queue as call-forward left it after a batch: the queue, the
    plates of the queued trucks (plate -> visit id), their pages (visit id -> page key),
    the event time it was stepped to (what a restarted worker resumes from), and when the
    trucks that left it for the gate lately reached it (manifest id -> the gate read's
    captured_at: an area read of such a truck handled late does not queue it again)."""

    queue: AreaQueue
    plates: Mapping[str, str]
    pages: Mapping[str, str]
    stepped_to: datetime | None
    reached: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArrivingBooking:
    """A manifest's active booking at a gate, as a truck entering the waiting area finds
    it; `page_key`: the key of its driver's page."""

    booking_id: str
    page_key: str
    slot_start: datetime
    slot_end: datetime


class CallForwardStore(Protocol):
    """What call-forward reads and writes, inside one transaction
    (services/adapters/sql_callforward.py, memory_callforward.py)."""

    async def board(self, gate: Gate) -> Board:
        """The gate's board as the orchestrator stored it (empty before the first write)."""

    async def manifests_for_keys(
        self, keys: Iterable[str], *, ended_after: datetime
    ) -> list[Manifest]: ...

    async def active_booking(self, gate_id: str, manifest_id: str) -> ArrivingBooking | None:
        """The manifest's active booking at the gate, earliest slot first; None: none."""

    async def manifest(self, firm_id: str, manifest_id: str) -> Manifest | None:
        """The firm's manifest; None when there is none."""

    async def queue(self, gate_id: str) -> QueueSnapshot | None:
        """The gate's queue as last saved; None before the first save."""

    async def save_queue(self, gate_id: str, snapshot: QueueSnapshot, *, now: datetime) -> None:
        """Keep the gate's queue (`now`: the wall clock, kept as the update time)."""

    async def save_called(
        self,
        gate_id: str,
        calls: Sequence[CalledPlace],
        *,
        arrived: Iterable[str],
        purge_before: datetime | None,
        now: datetime,
        reached: Sequence[CalledPlace] = (),
    ) -> None:
        """Tell the gate's decider the calls (`services.db.called.save_called`): `calls`,
        the trucks called and on their way; `arrived`, the manifests whose truck reached the
        gate (their calls kept a while: the decider may take that read later), and
        `reached`, the call each such truck held then (kept so, saved before or not); every
        other call withdrawn; calls whose deadline is before `purge_before` forgotten."""

    async def save_pages(
        self,
        states: Mapping[str, Mapping[str, Any]],
        *,
        visits: Mapping[str, str],
        now: datetime,
    ) -> None:
        """Write the drivers' pages' data by page key (a new page is made); `visits`: page
        key -> the visit id it follows."""

    async def add_calls(self, calls: Sequence[CallEvent], *, now: datetime) -> list[CallEvent]:
        """Put the calls, recalls and lost places decided in this transaction in the calls'
        outbox, unpublished, in their order; a call id already there is not added again (a
        batch stepped again). Returns those added."""

    async def unpublished_calls(self, limit: int) -> list[dict[str, Any]]:
        """The outbox's unpublished call events (their wire data), oldest first."""

    async def mark_calls_published(self, call_ids: Sequence[str], *, at: datetime) -> None: ...

    async def unmark_calls_published_since(self, since: datetime) -> int:
        """Mark the calls published since `since` unpublished again; returns how many."""

    async def purge_published_calls(self, before: datetime) -> int:
        """Forget the calls published before `before`; returns how many."""


# Opens one transaction on call-forward's state: committed when the block ends normally.
CallForwardStores = Callable[[], AbstractAsyncContextManager[CallForwardStore]]


class CallPublisher(Protocol):
    """The calls' outbox (services/adapters/call_outbox.py): calls are stored unpublished in
    the batch's transaction (`CallForwardStore.add_calls`), sent after it commits, and
    marked published in the next one (as the decisions: `DecisionPublisher`)."""

    async def mark_sent(self, store: CallForwardStore) -> None:
        """Mark what was sent since the last batch as published, in `store`'s transaction."""

    def committed(self) -> None:
        """The transaction that ran `mark_sent` committed."""

    async def send(self, calls: Sequence[CallEvent]) -> None:
        """Publish a committed batch's calls, in their order."""

    async def drain(self) -> int:
        """Publish every call not yet published; returns how many."""

    async def republish_since(self, since: datetime) -> None:
        """The broker came back empty: publish again what was published since `since`."""


class CallDesk(Protocol):
    """A gate's call-forward desk (services/drivers/desk.py): the pure policy
    (`lanes.policy.callforward`) stepped on a board, each call, recall and lost place
    returned as it is decided (the use case puts them in the calls' outbox, published once
    its batch commits), and the drivers' pages refreshed."""

    queue: AreaQueue
    board: Board

    def use_board(self, board: Board) -> None:
        """Take the orchestrator's newest board, keeping the called trucks' places."""

    async def entered(self, truck: Truck, *, at: datetime) -> list[CallEvent]: ...

    async def reached_gate(self, visit_id: str, *, at: datetime) -> list[CallEvent]: ...

    async def step(self, *, now: datetime, board: Board | None = None) -> list[CallEvent]: ...

    async def withdrawn(self, visit_id: str, *, at: datetime, reason: str) -> list[CallEvent]:
        """The truck is no longer to be called: its place given up, with the reason."""

    async def unqueued(
        self, visit_id: str, *, reached: datetime, now: datetime, board: Board
    ) -> list[CallEvent]:
        """The truck had reached the gate at `reached`, before the arrival that queued it:
        out of the queue as if never queued, announced to nobody; the queue steps on."""

    def page_states(self) -> dict[str, dict[str, Any]]:
        """The pages' data by visit id, as refreshed since the last `pages_written`."""

    def pages_written(self) -> None:
        """The pages were kept: forget them (the next `page_states` holds only the pages
        refreshed after this)."""


# Makes a gate's desk on its board (one per gate, kept by the use case across batches).
NewCallDesk = Callable[[Gate, Board], CallDesk]


@dataclass(frozen=True, slots=True)
class Weighing:
    """A weigh-in-motion station's measure of a truck; `payload`: its wire form, kept."""

    event_id: str
    station_id: str
    gate_id: str
    captured_at: datetime
    plate: str
    gross_weight_kg: float
    payload: Mapping[str, Any]


class WeighingStore(Protocol):
    """The weighings the alert step reads, inside one transaction
    (services/adapters/sql_weighings.py, memory_weighings.py)."""

    async def known(self, event_ids: Sequence[str]) -> set[str]:
        """Those of `event_ids` already stored."""

    async def add(self, weighings: Sequence[Weighing], *, received_at: datetime) -> None: ...


# Opens one transaction on the weighings: committed when the block ends normally.
WeighingStores = Callable[[], AbstractAsyncContextManager[WeighingStore]]
