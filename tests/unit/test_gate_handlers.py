"""The gate's use cases (services/service_layer/: decide a batch of reads, apply lane
events, a controller's action, an alert's status changed) on the in-memory adapters, with
a recording outbox: no database, no broker. The same handlers run on the database behind
the Kafka consumers and the control room (tests/integration/test_lane_events.py,
test_control_api.py, test_alert_workflow.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lanes.actions import ActionRefused
from lanes.alerts import Alert, Severity
from lanes.matching import OcrMatcher
from lanes.model import CustomsStatus, Direction, LaneDecision, Manifest, PlateRead
from lanes.policy import OrchestratedPolicy
from lanes.visits import ReadAtGate, visit_id_for
from services.adapters.memory_control import MemoryControlData
from services.gates.loader import default_gates, get_gate
from services.ports import GateStore
from services.service_layer.control import (
    ActionNotFound,
    ActionTaken,
    AlertChangeRefused,
    AlertStatusChanged,
    ApplyAction,
    ApplyActionHandler,
    ChangeAlertStatus,
    ChangeAlertStatusHandler,
)
from services.service_layer.deciding import (
    DecideReads,
    DecideReadsHandler,
    IncomingRead,
    ReadsDecided,
)
from services.service_layer.lane_events import (
    ApplyLaneEvents,
    ApplyLaneEventsHandler,
    LaneEvent,
    dead_letter_refused,
)

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
WALL = datetime(2030, 1, 1, tzinfo=UTC)  # the servers' clock: kept, never decides
GATES = default_gates()
GATE = get_gate("huu-nghi", GATES)
CAMERA = next(c for c in GATE.cameras if c.direction is Direction.EXPORT and c.role == "gate_in")
PLATE = "29H12345"


class RecordingOutbox:
    """The decision outbox's port, recording what it was asked to do, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.sent: list[LaneDecision] = []
        self.published = 0

    async def mark_sent(self, store: GateStore) -> None:
        self.calls.append("mark_sent")

    def committed(self) -> None:
        self.calls.append("committed")

    async def send(self, decisions: Sequence[LaneDecision]) -> None:
        self.calls.append("send")
        self.sent += decisions

    async def drain(self) -> int:
        return 0

    async def republish_since(self, since: datetime) -> None:
        return None

    async def publish_now(self, decisions: Sequence[LaneDecision]) -> None:
        self.calls.append("publish_now")
        self.sent += decisions


class RecordingAlerts:
    def __init__(self) -> None:
        self.dirty = False
        self.drained = 0

    async def drain(self) -> int:
        self.drained += 1
        self.dirty = False
        return 0


@pytest.fixture
def data() -> MemoryControlData:
    data = MemoryControlData()
    data.gate.store_manifests(
        [
            Manifest(
                "MF-1", "firm-01", Direction.EXPORT, PLATE, customs_status=CustomsStatus.CLEARED
            )
        ],
        now=T0 - timedelta(days=1),
    )
    return data


def _read(event_id: str, plate: str, at: datetime) -> IncomingRead:
    read = PlateRead(event_id, CAMERA.camera_id, at, plate, 0.93)
    payload: dict[str, Any] = {"event_id": event_id, "plate_text": plate}
    return IncomingRead(ReadAtGate(read, CAMERA, plate), payload, "reads", 0, 0)


async def _decide(
    data: MemoryControlData, *reads: IncomingRead
) -> tuple[ReadsDecided, RecordingOutbox, RecordingAlerts]:
    outbox, alerts = RecordingOutbox(), RecordingAlerts()
    handler = DecideReadsHandler(
        uow=data.gate.stores(),
        decisions=outbox,
        alerts=alerts,
        gates=GATES,
        matcher=OcrMatcher(),
        policy=OrchestratedPolicy(),
    )
    return await handler(DecideReads(reads, received_at=WALL)), outbox, alerts


async def _queued(data: MemoryControlData) -> LaneDecision:
    """Four trucks for three inspection bays: the decision of the one that waits."""
    plates = ["29H11111", "29H22222", "29H33333", "29H44444"]
    data.gate.store_manifests(
        [
            Manifest(
                f"MF-I{n}", "firm-01", Direction.EXPORT, p, customs_status=CustomsStatus.INSPECT
            )
            for n, p in enumerate(plates)
        ],
        now=T0 - timedelta(days=1),
    )
    done, _, _ = await _decide(data, *(_read(f"r-{n}", p, T0) for n, p in enumerate(plates)))
    queued = max(done.decided, key=lambda d: d.expected_start_at or T0)
    assert queued.expected_start_at is not None and queued.expected_start_at > T0
    return queued


async def test_a_read_is_decided_stored_and_published_after_the_commit(
    data: MemoryControlData,
) -> None:
    done, outbox, alerts = await _decide(data, _read("r-1", PLATE, T0))
    (decision,) = done.decided
    assert (decision.outcome.value, decision.manifest_id) == ("assigned", "MF-1")
    assert (done.fresh, done.visits, done.held, done.stored) == (1, 1, (), {})
    assert outbox.calls == ["mark_sent", "committed", "send"]
    assert outbox.sent == [decision]
    assert data.gate.reads["r-1"]["received_at"] == WALL  # kept, never compared
    assert data.gate.decisions[decision.visit_id] == decision
    assert alerts.drained == 0  # no new alert: nothing to send
    # the same read again: recognised by its event_id, handed back stored, nothing decided
    again, outbox, _ = await _decide(data, _read("r-1", PLATE, T0))
    assert (again.fresh, again.decided, list(again.stored)) == (0, (), ["r-1"])
    assert outbox.sent == []


async def test_a_lane_closed_re_plans_its_queue_and_a_redelivery_changes_nothing(
    data: MemoryControlData,
) -> None:
    queued = await _queued(data)
    outbox = RecordingOutbox()
    handler = ApplyLaneEventsHandler(
        uow=data.gate.stores(), decisions=outbox, gates=GATES, policy=OrchestratedPolicy()
    )
    at = T0 + timedelta(minutes=1)
    closed = LaneEvent("le-1", GATE.gate_id, "lane_closed", at, {}, 0, lane_id=queued.lane_id)
    stray = LaneEvent("le-2", GATE.gate_id, "truck_left", at, {}, 1, visit_id="v-x")
    applied = await handler(ApplyLaneEvents((closed, stray), received_at=WALL))
    revised = {d.visit_id: d for d in applied.revised}
    assert revised[queued.visit_id].revision == queued.revision + 1
    assert revised[queued.visit_id].lane_id != queued.lane_id
    assert [(e.event_id, why) for e, why in applied.rejected] == [
        ("le-2", "truck 'v-x' left, but it is in no lane, bay or queue")
    ]
    assert (applied.applied["lane_closed"], applied.duplicates) == (1, 0)
    assert outbox.calls == ["mark_sent", "committed", "send"]
    assert data.gate.decisions[queued.visit_id] == revised[queued.visit_id]
    assert data.gate.lanes_open[str(queued.lane_id)] is False
    again = await handler(ApplyLaneEvents((closed,), received_at=WALL))
    assert (again.revised, again.duplicates) == ((), 1)


async def test_a_controllers_hold_is_audited_announced_before_the_commit_then_published(
    data: MemoryControlData,
) -> None:
    decision = await _queued(data)
    outbox = RecordingOutbox()
    handler = ApplyActionHandler(
        uow=data.stores(), decisions=outbox, gates=GATES, policy=OrchestratedPolicy()
    )
    announced: list[ActionTaken] = []

    async def announce(taken: ActionTaken) -> None:
        assert outbox.calls == ["mark_sent"]  # inside the transaction, before the commit
        announced.append(taken)

    cmd = ApplyAction(
        "hold", GATE.gate_id, "ana", "papers", "act-1", WALL, visit_id=decision.visit_id
    )
    taken = await handler(cmd, announce=announce)
    assert taken.decision is not None
    assert taken.decision.outcome.value == "needs_review"
    assert (taken.at, taken.audit_seq, taken.lane_event) == (T0, 1, None)  # the gate's clock
    assert announced == [taken]
    assert outbox.calls == ["mark_sent", "committed", "publish_now"]
    (entry,) = data.audit_log
    assert (entry.action, entry.target, entry.at) == ("hold", decision.visit_id, WALL)
    assert entry.details["before"]["outcome"] == "assigned"
    assert entry.details["after"]["outcome"] == "needs_review"
    assert data.gate.decisions[decision.visit_id] == taken.decision


async def test_a_truck_in_review_is_turned_away_and_leaves_review_a_queued_one_is_held_first(
    data: MemoryControlData,
) -> None:
    """A controller refuses entry to a truck (no declaration, a broken seal): the visit in
    review gets a `refused` revision with the reason, audited and published; a truck still
    in a queue is refused the action (hold it first), and turning away twice is refused
    naming who did it first. Until 2026-12-06 there was no such action: a truck with no
    manifest stayed in the review queue for good."""
    decision = await _queued(data)
    handler = ApplyActionHandler(
        uow=data.stores(), decisions=RecordingOutbox(), gates=GATES, policy=OrchestratedPolicy()
    )

    async def announce(taken: ActionTaken) -> None:
        return None

    def action(kind: str, reason: str, n: int) -> ApplyAction:
        return ApplyAction(
            kind, GATE.gate_id, "ana", reason, f"act-{n}", WALL, visit_id=decision.visit_id
        )

    with pytest.raises(ActionRefused, match=r"is already assigned to .*hold it first"):
        await handler(action("turn_away", "no papers", 1), announce=announce)
    await handler(action("hold", "seal broken", 2), announce=announce)
    taken = await handler(
        action("turn_away", "seal broken: handed to customs", 3), announce=announce
    )
    assert taken.decision is not None
    assert taken.decision.outcome.value == "refused"
    assert taken.decision.lane_id is None and taken.decision.revision == 2
    assert taken.decision.reason == (
        "turned away by ana (seal broken: handed to customs) -> not admitted at the gate"
    )
    assert data.gate.decisions[decision.visit_id] == taken.decision
    assert [e.action for e in data.audit_log] == ["hold", "turn_away"]
    assert data.audit_log[-1].details["after"]["outcome"] == "refused"
    with pytest.raises(ActionRefused, match="is already refused: turned away by ana"):
        await handler(action("turn_away", "again", 4), announce=announce)
    with pytest.raises(ActionRefused, match=r"was turned away by ana .*a new visit"):
        await handler(action("release", "changed my mind", 5), announce=announce)


async def test_a_truck_no_open_lane_takes_waits_in_review_until_its_lane_opens_and_a_release(
    data: MemoryControlData,
) -> None:
    """The hazmat lane closed under its queued hazmat truck: the re-plan finds no other lane
    and the truck goes to review with why (it was `refused`, and nothing ever came back to
    it); a release while the lane is still closed is refused and changes nothing; once the
    lane is open again, the release places it there."""
    data.gate.store_manifests(
        [
            Manifest(
                f"MF-HZ{n}", "firm-01", Direction.EXPORT, f"29H8888{n}", hazmat_class="2.1",
                customs_status=CustomsStatus.CLEARED,
            )
            for n in (1, 2)
        ],
        now=T0 - timedelta(days=1),
    )  # fmt: skip
    done, _, _ = await _decide(data, _read("r-hz1", "29H88881", T0), _read("r-hz2", "29H88882", T0))
    queued = max(done.decided, key=lambda d: d.expected_start_at or T0)  # behind the other
    assert (queued.outcome.value, queued.lane_id) == ("assigned", "HN-E12")
    assert queued.expected_start_at is not None and queued.expected_start_at > T0
    events = ApplyLaneEventsHandler(
        uow=data.gate.stores(),
        decisions=RecordingOutbox(),
        gates=GATES,
        policy=OrchestratedPolicy(),
    )
    actions = ApplyActionHandler(
        uow=data.stores(), decisions=RecordingOutbox(), gates=GATES, policy=OrchestratedPolicy()
    )

    async def announce(taken: ActionTaken) -> None:
        return None

    def lane(kind: str, n: int) -> LaneEvent:
        at = T0 + timedelta(minutes=n)
        return LaneEvent(f"le-{n}", GATE.gate_id, kind, at, {}, 0, lane_id="HN-E12")

    def release(n: int) -> ApplyAction:
        return ApplyAction(
            "release", GATE.gate_id, "ana", "lane open", f"act-{n}", WALL, visit_id=queued.visit_id
        )

    closed = await events(ApplyLaneEvents((lane("lane_closed", 1),), received_at=WALL))
    (waiting,) = closed.revised
    assert (waiting.outcome.value, waiting.lane_id) == ("needs_review", None)
    assert "no open export lane takes it (closed: HN-E12)" in waiting.reason
    with pytest.raises(ActionRefused, match=r"visit_id: .*no open export lane takes it"):
        await actions(release(1), announce=announce)
    assert data.gate.decisions[queued.visit_id] == waiting
    await events(ApplyLaneEvents((lane("lane_opened", 2),), received_at=WALL))
    taken = await actions(release(2), announce=announce)
    assert taken.decision is not None
    assert (taken.decision.outcome.value, taken.decision.lane_id) == ("assigned", "HN-E12")


async def test_a_refused_or_unknown_action_keeps_and_announces_nothing(
    data: MemoryControlData,
) -> None:
    await _decide(data, _read("r-1", PLATE, T0))
    outbox = RecordingOutbox()
    handler = ApplyActionHandler(
        uow=data.stores(), decisions=outbox, gates=GATES, policy=OrchestratedPolicy()
    )

    async def announce(taken: ActionTaken) -> None:
        raise AssertionError("announced")

    with pytest.raises(ActionNotFound, match="visit_id: no decided visit 'v-none'"):
        await handler(
            ApplyAction("hold", GATE.gate_id, "ana", "x", "act-1", WALL, visit_id="v-none"),
            announce=announce,
        )
    with pytest.raises(ActionRefused):
        await handler(
            ApplyAction("close_lane", GATE.gate_id, "ana", "x", "act-2", WALL, lane_id="HN-E99"),
            announce=announce,
        )
    assert data.audit_log == []
    assert "publish_now" not in outbox.calls


async def test_an_alert_change_is_checked_audited_and_announced_before_the_commit(
    data: MemoryControlData,
) -> None:
    alert = Alert(
        "a-1",
        "cloned_plate",
        Severity.HIGH,
        f"plate:{PLATE}",
        GATE.gate_id,
        T0,
        "two places",
        ("r-1",),
    )
    async with data.gate.stores()() as store:
        await store.add_alerts([alert], now=WALL)
    handler = ChangeAlertStatusHandler(uow=data.stores())
    announced: list[AlertStatusChanged] = []

    async def announce(changed: AlertStatusChanged) -> None:
        announced.append(changed)

    def change(action: str, status: str, alert_id: str = "a-1") -> ChangeAlertStatus:
        return ChangeAlertStatus(alert_id, action, status, "ana", "checked", WALL)

    changed = await handler(change("acknowledge", "acknowledged"), announce=announce)
    assert announced == [changed]
    assert changed.audit_seq == 1
    assert changed.views.wire["change"] == "acknowledged"
    assert (changed.views.wire["changed_by"], changed.views.wire["reason"]) == ("ana", "checked")
    assert changed.views.shown["status"] == "acknowledged"
    assert changed.views.shown["raised_at"] == T0.isoformat()
    (entry,) = data.audit_log
    assert (entry.action, entry.target, entry.gate_id) == ("alert_acknowledge", "a-1", GATE.gate_id)
    assert (entry.details["before"], entry.details["after"]) == ("open", "acknowledged")
    # refused: the same status again, an unknown alert, any change to a dismissed one
    for cmd, kind in (
        (change("acknowledge", "acknowledged"), "alert-unchanged"),
        (change("dismiss", "dismissed", "a-none"), "unknown-alert"),
    ):
        with pytest.raises(AlertChangeRefused) as refused:
            await handler(cmd, announce=announce)
        assert refused.value.kind == kind
    await handler(change("dismiss", "dismissed"), announce=announce)
    with pytest.raises(AlertChangeRefused, match="a-1 is closed \\(dismissed\\)"):
        await handler(change("escalate", "escalated"), announce=announce)
    assert len(announced) == len(data.audit_log) == 2


async def test_a_batch_that_re_plans_a_truck_twice_gives_it_two_revisions_and_no_news_none(
    data: MemoryControlData,
) -> None:
    """At night (00:02 local) a red perishable truck waits for an inspection bay to open at
    06:00. A bay closure and three carrier outages arrive in one batch: the closure moves it
    (revision 1); the outages re-plan the bays closed for the night again, which puts it
    back where it was already expected and is no news (no revision 1 twice, no revision 2
    saying the same thing: the replay of a recorded night found both)."""
    night = datetime(2026, 11, 24, 17, 2, tzinfo=UTC)
    data.gate.store_manifests(
        [
            Manifest(
                "MF-R",
                "firm-01",
                Direction.EXPORT,
                "29H55555",
                perishable=True,
                customs_status=CustomsStatus.INSPECT,
            )
        ],
        now=night - timedelta(days=1),
    )
    done, _, _ = await _decide(data, _read("r-night", "29H55555", night))
    (first,) = done.decided
    assert first.expected_start_at == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # 06:00 local
    at = night + timedelta(minutes=7)
    events = [LaneEvent("le-close", GATE.gate_id, "lane_closed", at, {}, 0, lane_id=first.lane_id)]
    events += [
        LaneEvent(f"le-out-{n}", GATE.gate_id, "carrier_out", at, {}, n, carrier_id=f"AC-{n}")
        for n in (1, 2, 3)
    ]
    handler = ApplyLaneEventsHandler(
        uow=data.gate.stores(),
        decisions=RecordingOutbox(),
        gates=GATES,
        policy=OrchestratedPolicy(),
    )
    applied = await handler(ApplyLaneEvents(tuple(events), received_at=WALL))
    (moved,) = applied.revised
    assert (moved.visit_id, moved.revision) == (first.visit_id, 1)
    assert moved.lane_id not in (None, first.lane_id)
    assert moved.reason.startswith(f"re-planned: lane {first.lane_id} closed at 00:09")
    assert data.gate.decisions[first.visit_id] == moved


async def test_a_truck_decided_while_an_older_holding_alert_names_it_is_held_by_the_oldest(
    data: MemoryControlData,
) -> None:
    """Two open holding alerts about one truck (its plate, its manifest) and none about
    another, raised before their reads: the batch's one look-up of open holds holds the
    first truck once, by the older alert, and leaves the other alone."""
    data.gate.store_manifests(
        [Manifest("MF-2", "firm-01", Direction.EXPORT, "29H67890")], now=T0 - timedelta(days=1)
    )
    older = Alert(
        "a-old",
        "watchlist",
        Severity.HIGH,
        f"plate:{PLATE}",
        GATE.gate_id,
        T0 - timedelta(hours=1),
        "x",
        (),
        True,
    )
    newer = Alert(
        "a-new",
        "watchlist",
        Severity.HIGH,
        "manifest:MF-1",
        GATE.gate_id,
        T0 - timedelta(minutes=1),
        "y",
        (),
        True,
    )
    async with data.gate.stores()() as store:
        await store.add_alerts([newer, older], now=WALL)
    done, _, _ = await _decide(data, _read("r-1", PLATE, T0), _read("r-2", "29H67890", T0))
    (held,) = done.held
    decided = {d.plate: d for d in done.decided}
    assert held.visit_id == decided[PLATE].visit_id
    assert held.outcome.value == "needs_review"
    assert data.gate.alerts["a-old"].held_visit_id == held.visit_id
    assert data.gate.alerts["a-new"].held_visit_id is None
    assert data.gate.decisions[decided["29H67890"].visit_id] == decided["29H67890"]


async def test_a_lane_event_refused_before_its_truck_is_decided_is_applied_when_sent_again(
    data: MemoryControlData,
) -> None:
    """The board refuses a truck's event that came before the truck's decision (lane events
    and reads are separate topics); its dead letter, redriven once the truck is decided, is
    applied, not dropped as a duplicate (until 2026-12-05 the refused event was recorded as
    seen, so a redrive could never apply it)."""
    handler = ApplyLaneEventsHandler(
        uow=data.gate.stores(),
        decisions=RecordingOutbox(),
        gates=GATES,
        policy=OrchestratedPolicy(),
    )
    visit_id = visit_id_for(GATE.gate_id, "r-1")
    early = LaneEvent(
        "le-9", GATE.gate_id, "truck_left", T0 + timedelta(seconds=10), {}, 0, visit_id=visit_id
    )
    refused = await handler(ApplyLaneEvents((early,), received_at=WALL))
    assert [e.event_id for e, _ in refused.rejected] == ["le-9"]
    done, _, _ = await _decide(data, _read("r-1", PLATE, T0))
    assert done.decided[0].visit_id == visit_id
    again = await handler(ApplyLaneEvents((early,), received_at=WALL))
    assert (again.rejected, again.duplicates, again.applied["truck_left"]) == ((), 0, 1)
    # applied, it is seen: a redelivery changes nothing
    third = await handler(ApplyLaneEvents((early,), received_at=WALL))
    assert (third.duplicates, third.applied["truck_left"]) == (1, 0)


async def test_a_lane_being_closed_by_one_controller_is_refused_to_the_next(
    data: MemoryControlData,
) -> None:
    """Two controllers closed the same lane one after the other in the control room: the
    first's lane event was not yet applied to the board (the lane-event worker applies it
    a moment later), so the second was 'done' too, a second closure audited and sent, and
    an 'Open lane' meanwhile was refused as 'already open'."""
    handler = ApplyActionHandler(
        uow=data.stores(), decisions=RecordingOutbox(), gates=GATES, policy=OrchestratedPolicy()
    )

    async def announce(taken: ActionTaken) -> None:
        pass

    def lane(action: str, who: str, n: int) -> ApplyAction:
        return ApplyAction(
            action,
            GATE.gate_id,
            who,
            "crew short",
            f"act-{n}",
            WALL,
            lane_id="HN-E5",
            lane_event_id=f"ctl-{n}",
        )

    await handler(lane("close_lane", "ana", 1), announce=announce)
    with pytest.raises(ActionRefused) as refused:
        await handler(lane("close_lane", "bob", 2), announce=announce)
    assert str(refused.value) == "lane_id: HN-E5 is already being closed by ana (crew short)"
    assert [e.actor for e in data.audit_log] == ["ana"]
    # reopening the lane being closed is allowed: its event follows the closure's
    reopened = await handler(lane("open_lane", "bob", 3), announce=announce)
    assert reopened.lane_event == "lane_opened"

    data.gate.lane_events |= {"ctl-1", "ctl-3"}  # both applied: the board says again
    with pytest.raises(ActionRefused, match="lane_id: HN-E5 is already open"):
        await handler(lane("open_lane", "ana", 4), announce=announce)


async def test_a_carrier_is_taken_out_of_service_and_back_as_a_lane_is_closed_and_opened(
    data: MemoryControlData,
) -> None:
    """The control room takes an autonomous carrier out of service (a `carrier_out` lane
    event, as a lane is closed: tests/integration/test_control_carriers.py on the database):
    a second controller is refused while the first's event waits, putting it back meanwhile
    is allowed, an unknown carrier is refused naming `carrier_id`."""
    handler = ApplyActionHandler(
        uow=data.stores(), decisions=RecordingOutbox(), gates=GATES, policy=OrchestratedPolicy()
    )

    async def announce(taken: ActionTaken) -> None:
        pass

    def carrier(action: str, who: str, n: int, carrier_id: str = "AC-1") -> ApplyAction:
        return ApplyAction(
            action,
            GATE.gate_id,
            who,
            "lidar fault",
            f"act-{n}",
            WALL,
            lane_event_id=f"ctl-{n}",
            carrier_id=carrier_id,
        )

    taken = await handler(carrier("carrier_out", "ana", 1), announce=announce)
    assert (taken.lane_event, taken.decision) == ("carrier_out", None)
    (entry,) = data.audit_log
    assert (entry.action, entry.target, entry.details["carrier_id"]) == (
        "carrier_out",
        "AC-1",
        "AC-1",
    )
    with pytest.raises(ActionRefused) as refused:
        await handler(carrier("carrier_out", "bob", 2), announce=announce)
    assert str(refused.value) == (
        "carrier_id: AC-1 is already being taken out of service by ana (lidar fault)"
    )
    with pytest.raises(ActionRefused, match="carrier_id: gate 'huu-nghi' has no carrier 'AC-99'"):
        await handler(carrier("carrier_out", "bob", 3, "AC-99"), announce=announce)
    back = await handler(carrier("carrier_back", "bob", 4), announce=announce)
    assert back.lane_event == "carrier_back"
    data.gate.lane_events |= {"ctl-1", "ctl-4"}  # both applied: the board says again
    with pytest.raises(ActionRefused, match="carrier_id: AC-1 is already in service"):
        await handler(carrier("carrier_back", "ana", 5), announce=announce)


@pytest.mark.parametrize(
    ("action", "outcome", "ended"),
    [("release", "assigned", "released"), ("turn_away", "refused", "turned_away")],
)
async def test_a_truck_an_alert_held_released_or_turned_away_by_a_controller_marks_the_alert(
    data: MemoryControlData, action: str, outcome: str, ended: str
) -> None:
    """The alert that held the truck says it was released (or turned away), by whom, when
    (the gate's clock) and why, and the action announces it as the alert's `released` (or
    `turned_away`) change; until 2026-12-06 the alert kept saying "truck held", and after a
    turn-away until 2026-12-06 late (tests/integration/test_alert_workflow.py and
    test_alert_turned_away.py on the database)."""
    holding = Alert("a-1", "swap", Severity.HIGH, "manifest:MF-1", GATE.gate_id, T0, "x", (), True)
    async with data.gate.stores()() as store:
        await store.add_alerts([holding], now=WALL)
    done, _, _ = await _decide(data, _read("r-1", PLATE, T0))
    (held,) = done.held
    handler = ApplyActionHandler(
        uow=data.stores(), decisions=RecordingOutbox(), gates=GATES, policy=OrchestratedPolicy()
    )
    announced: list[ActionTaken] = []

    async def announce(taken: ActionTaken) -> None:
        announced.append(taken)

    cmd = ApplyAction(action, GATE.gate_id, "ana", "seal checked", "act-1", WALL, held.visit_id)
    taken = await handler(cmd, announce=announce)
    assert taken.decision is not None and taken.decision.outcome.value == outcome
    (views,) = announced[0].released
    assert (views.wire["change"], views.wire["changed_by"], views.wire["reason"]) == (
        ended,
        "ana",
        "seal checked",
    )
    assert views.shown["released_by"] == "ana" and views.shown["released_at"] == T0.isoformat()
    assert views.shown["released_as"] == ended
    assert views.shown["held_visit_id"] == held.visit_id and views.shown["status"] == "open"
    (entry,) = data.audit_log
    assert entry.details["released_alerts"] == ["a-1"]
    assert data.gate.alerts["a-1"].released_as == ended


async def test_a_lane_event_dated_ahead_of_the_reads_is_held_until_they_reach_it(
    data: MemoryControlData,
) -> None:
    """A closure a day ahead of the gate's reads (a gateway whose clock is off, a later
    day's events sent first) is kept, not applied: the truck read now still gets the lane;
    the read that reaches the closure's time has it applied first, under the same lock."""
    first, _, _ = await _decide(data, _read("r-1", PLATE, T0))
    (decided,) = first.decided
    lane = decided.lane_id
    assert lane is not None
    handler = ApplyLaneEventsHandler(
        uow=data.gate.stores(),
        decisions=RecordingOutbox(),
        gates=GATES,
        policy=OrchestratedPolicy(),
    )
    ahead = T0 + timedelta(days=1)
    closed = LaneEvent(
        "le-ahead", GATE.gate_id, "lane_closed", ahead, {"lane_id": lane}, 0, lane_id=lane
    )
    done = await handler(ApplyLaneEvents((closed,), received_at=WALL))
    assert not done.applied and not done.rejected
    assert data.gate.lanes_open.get(lane, True)  # still open
    assert list(data.gate.held_events) == ["le-ahead"]
    # a read an hour before it: within the lead, the closure is applied before deciding
    later, outbox, _ = await _decide(data, _read("r-2", "51C77777", ahead - timedelta(minutes=59)))
    assert data.gate.lanes_open[lane] is False
    assert not data.gate.held_events
    assert all(d.lane_id != lane for d in later.decided)
    assert outbox.calls[-2:] == ["committed", "send"]


async def test_a_held_lane_event_the_board_refuses_later_waits_to_be_dead_lettered(
    data: MemoryControlData,
) -> None:
    """In memory, as on SQLite and PostgreSQL (tests/integration/test_event_time_ahead.py):
    a held truck_left for a visit on no lane, applied when the reads reach it, is refused
    and kept with the reason; the dead-letter step sends it once and forgets it."""
    await _decide(data, _read("r-1", PLATE, T0))
    handler = ApplyLaneEventsHandler(
        uow=data.gate.stores(),
        decisions=RecordingOutbox(),
        gates=GATES,
        policy=OrchestratedPolicy(),
    )
    ahead = T0 + timedelta(hours=2)
    left = LaneEvent(
        "le-left", GATE.gate_id, "truck_left", ahead, {"visit_id": "v-x"}, 0, visit_id="v-x"
    )
    await handler(ApplyLaneEvents((left,), received_at=WALL))
    assert list(data.gate.held_events) == ["le-left"]
    await _decide(data, _read("r-2", "51C77777", ahead))
    assert not data.gate.held_events
    sent: list[list[Any]] = []

    async def send(rows: Sequence[Mapping[str, Any]]) -> None:
        sent.append([(r["event_id"], r["refused"]) for r in rows])

    assert await dead_letter_refused(data.gate.stores(), send) == 1
    assert sent == [[("le-left", "truck 'v-x' left, but it is in no lane, bay or queue")]]
    assert await dead_letter_refused(data.gate.stores(), send) == 0  # once
    assert "le-left" not in data.gate.lane_events  # a redrive is new again
