"""A truck's match is judged at its arrival, whatever the batch its reads came in.

Found by a stranger's camera client on `borderflow up` (2025-07-14, 2026-12-06): a truck read
at a gate-in camera at 12:27 local, inside its manifest's window (to 12:30), and again at
12:33, was `needs_review` "3 min late for its window" when both reads came in one batch (a
backlog, a gateway that batches), and assigned when the decider kept up (one read a batch).
The matcher was asked at the visit's last read; the booking's lateness already took its
first one. The in-memory adapters, as tests/unit/test_gate_handlers.py; the same handler
runs on the database behind the consumer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lanes.matching import OcrMatcher
from lanes.model import CustomsStatus, Direction, LaneDecision, Manifest, PlateRead
from lanes.policy import OrchestratedPolicy
from lanes.visits import ReadAtGate
from services.adapters.memory_control import MemoryControlData
from services.gates.loader import default_gates, get_gate
from services.service_layer.deciding import DecideReads, DecideReadsHandler, IncomingRead
from tests.unit.test_gate_handlers import RecordingAlerts, RecordingOutbox

GATES = default_gates()
GATE = get_gate("huu-nghi", GATES)
GATE_IN = next(c for c in GATE.cameras if c.direction is Direction.EXPORT and c.role == "gate_in")
EXIT = next(c for c in GATE.cameras if c.direction is Direction.EXPORT and c.role == "exit")
LOCAL = timedelta(hours=7)
DAY = datetime(2025, 7, 14, tzinfo=UTC) - LOCAL  # 00:00 at the gate
WALL = datetime(2030, 1, 1, tzinfo=UTC)
PLATE = "29H70707"


def _data() -> MemoryControlData:
    data = MemoryControlData()
    manifest = Manifest(
        "V-70",
        "vendor-a",
        Direction.EXPORT,
        PLATE,
        customs_status=CustomsStatus.CLEARED,
        window_start=DAY + timedelta(hours=6),
        window_end=DAY + timedelta(hours=12, minutes=30),
    )
    data.gate.store_manifests([manifest], now=DAY)
    return data


def _read(event_id: str, hhmm: str, camera: Any = GATE_IN) -> IncomingRead:
    h, m = map(int, hhmm.split(":"))
    read = PlateRead(event_id, camera.camera_id, DAY + timedelta(hours=h, minutes=m), PLATE, 0.95)
    payload: dict[str, Any] = {"event_id": event_id, "plate_text": PLATE}
    return IncomingRead(ReadAtGate(read, camera, PLATE), payload, "reads", 0, 0)


async def _decided(data: MemoryControlData, *batches: tuple[IncomingRead, ...]) -> LaneDecision:
    decided: list[LaneDecision] = []
    for batch in batches:
        handler = DecideReadsHandler(
            uow=data.gate.stores(),
            decisions=RecordingOutbox(),
            alerts=RecordingAlerts(),
            gates=GATES,
            matcher=OcrMatcher(),
            policy=OrchestratedPolicy(),
        )
        decided += (await handler(DecideReads(batch, received_at=WALL))).decided
    (decision,) = decided
    return decision


async def test_a_truck_read_in_its_window_then_after_it_is_matched_read_by_read() -> None:
    decision = await _decided(_data(), (_read("f1", "12:27"),), (_read("f2", "12:33"),))
    assert (decision.match_outcome.value, decision.outcome.value) == ("matched", "assigned")


async def test_the_same_reads_in_one_batch_are_matched_as_read_by_read() -> None:
    decision = await _decided(_data(), (_read("f1", "12:27"), _read("f2", "12:33")))
    assert (decision.match_outcome.value, decision.outcome.value) == ("matched", "assigned")
    assert decision.read_event_ids == ("f1", "f2")


async def test_a_read_at_the_exit_in_the_same_batch_does_not_make_it_late() -> None:
    decision = await _decided(_data(), (_read("f1", "12:27"), _read("f2", "12:36", EXIT)))
    assert (decision.match_outcome.value, decision.outcome.value) == ("matched", "assigned")


async def test_a_truck_read_only_after_its_window_is_still_late() -> None:
    decision = await _decided(_data(), (_read("f1", "12:33"), _read("f2", "12:35")))
    assert decision.match_outcome.value == "outside_window"
    assert "3 min late for its window" in decision.reason  # from its first read


async def test_a_late_trucks_reason_tells_its_window_in_gate_time() -> None:
    decision = await _decided(_data(), (_read("f1", "12:33"),))
    assert decision.match_outcome.value == "outside_window"
    assert decision.reason.endswith("V-70: 3 min late for its window 06:00-12:30 (UTC+07:00)")
    # in one batch with another read (the visit's own match, not the lone read's): the same
    again = await _decided(_data(), (_read("f1", "12:33"), _read("f2", "12:34")))
    assert again.reason.endswith("V-70: 3 min late for its window 06:00-12:30 (UTC+07:00)")


async def test_a_window_on_another_day_is_told_with_its_date() -> None:
    decision = await _decided(_data(), (_read("f1", "12:33"),))
    assert "2025-07-14 06:00-2025-07-14 12:30" not in decision.reason  # today's: no date
    data = MemoryControlData()
    day_before = Manifest(
        "V-71",
        "vendor-a",
        Direction.EXPORT,
        PLATE,
        customs_status=CustomsStatus.CLEARED,
        window_start=DAY - timedelta(hours=18),
        window_end=DAY - timedelta(hours=6),
    )
    data.gate.store_manifests([day_before], now=DAY - timedelta(days=1))
    late = await _decided(data, (_read("f1", "08:00"),))
    assert late.reason.endswith(
        "V-71: 14 h 00 min late for its window 2025-07-13 06:00-2025-07-13 18:00 (UTC+07:00)"
    ), late.reason
