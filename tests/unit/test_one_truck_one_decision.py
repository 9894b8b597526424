"""One truck, one decision: plate reads in, decisions out, on the gate's state in memory.

A manifest is one truck's crossing. The matcher prices a read against each manifest's
tractor and trailer plate, and visits group reads by plate and time, so a truck's trailer
plate, a misread of it, or the same plate read after the visit window could each open a
second visit given the same manifest. Within the window the resolution joins the trailer
read to the tractor's visit (lanes/resolve.py) and a misread it cannot attribute is its own
visit for review: one lane each. After the window the second visit was given a lane as well,
until `lanes.decide.given_before`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from lanes.model import CustomsStatus, Direction, Manifest
from services.adapters.memory_gate import MemoryGateData
from tests.unit.test_decider_memory import T0, _decider, _read

EXPORT_GATE, EXPORT_REAR, EXPORT_LANE = "hn-exp-gate-1", "hn-exp-gate-2", "hn-exp-lane-1"
VN = Manifest(
    "MF-VN",
    "firm-01",
    Direction.EXPORT,
    "29H12345",
    trailer_plate="29R01234",
    customs_status=CustomsStatus.CLEARED,
)
CN = Manifest(
    "MF-CN",
    "firm-02",
    Direction.IMPORT,
    "桂A12345",
    trailer_plate="桂A1234挂",
    customs_status=CustomsStatus.CLEARED,
)
OTHER = Manifest(
    "MF-2", "firm-01", Direction.EXPORT, "29C88888", customs_status=CustomsStatus.CLEARED
)

Read = tuple[str, str, int, str]  # event id, plate as read, seconds after T0, camera


async def _decisions(batches: list[list[Read]]) -> list[dict[str, Any]]:
    data = MemoryGateData()
    data.store_manifests([VN, CN, OTHER], now=T0 - timedelta(days=1))
    decider, producer = _decider(data)
    for batch in batches:
        reads = [
            _read(decider, e, plate, T0 + timedelta(seconds=s), camera_id=camera)
            for e, plate, s, camera in batch
        ]
        assert await decider.handle(reads) == []
    return producer.decisions()


def _given(decisions: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(d["outcome"], d["manifest_id"]) for d in decisions]


@pytest.mark.parametrize(
    "batches",
    [
        [[("r1", "29H-123.45", 0, EXPORT_GATE)], [("r2", "29R-012.34", 20, EXPORT_REAR)]],
        [[("r1", "29H-123.45", 0, EXPORT_GATE), ("r2", "29R-012.34", 20, EXPORT_REAR)]],
        [[("r2", "29R-012.34", 0, EXPORT_REAR)], [("r1", "29H-123.45", 20, EXPORT_GATE)]],
        [[("r1", "29H-123.45", 0, EXPORT_GATE)], [("r2", "29R-012.34", 120, EXPORT_LANE)]],
        [[("c1", "桂A·12345", 0, "hn-imp-gate-1")], [("c2", "桂A·1234挂", 20, "hn-imp-gate-2")]],
        [[("c1", "桂A·12345", 0, "hn-imp-gate-1"), ("c2", "桂A·1234挂", 20, "hn-imp-gate-2")]],
    ],
    ids=["vn-apart", "vn-one-batch", "vn-trailer-first", "vn-lane-camera", "cn-apart", "cn-one"],
)
async def test_a_trailer_plate_read_within_the_window_joins_the_tractors_visit(
    batches: list[list[Read]],
) -> None:
    decisions = await _decisions(batches)
    assert _given(decisions) in ([("assigned", "MF-VN")], [("assigned", "MF-CN")])


async def test_a_misread_the_matcher_cannot_attribute_is_reviewed_not_given_the_manifest() -> None:
    decisions = await _decisions(
        [
            [("r1", "29H-123.45", 0, EXPORT_GATE)],
            [(f"r{i}", "29H-128.46", 30 + i, EXPORT_REAR) for i in range(2, 5)],
        ]
    )
    assert _given(decisions) == [("assigned", "MF-VN"), ("needs_review", None)]


@pytest.mark.parametrize("plate", ["29H-123.45", "29R-012.34"], ids=["tractor", "trailer"])
async def test_a_truck_read_again_after_the_visit_window_is_not_given_a_second_lane(
    plate: str,
) -> None:
    # the gate's visit window is 10 minutes: the truck read at the lane-entry camera after
    # 15 minutes in the queue opens a second visit, matched to the same manifest
    first, again = await _decisions(
        [[("r1", "29H-123.45", 0, EXPORT_GATE)], [("r2", plate, 15 * 60, EXPORT_LANE)]]
    )
    assert (first["outcome"], first["lane_id"]) == ("assigned", "HN-E1")
    assert again["visit_id"] != first["visit_id"]
    assert (again["outcome"], again["manifest_id"], again["lane_id"]) == (
        "needs_review",
        "MF-VN",
        None,
    )
    assert again["reason"].startswith(
        f"manifest MF-VN already given to visit {first['visit_id']} at 10:00 (HN-E1)"
    )


async def test_two_visits_of_one_manifest_in_one_batch_give_one_lane() -> None:
    decisions = await _decisions(
        [[("r1", "29H-123.45", 0, EXPORT_GATE), ("r2", "29R-012.34", 15 * 60, EXPORT_LANE)]]
    )
    assert _given(decisions) == [("assigned", "MF-VN"), ("needs_review", "MF-VN")]


def _queue_ahead(count: int) -> list[Manifest]:
    """`count` cleared export trucks (plates far apart: none a misreading of another)."""
    return [
        Manifest(
            f"MF-Q{n:03d}",
            "firm-03",
            Direction.EXPORT,
            f"{15 + n % 80}C{(n * 7919) % 100_000:05d}",
            customs_status=CustomsStatus.CLEARED,
        )
        for n in range(count)
    ]


async def _queued_then_read_again(ahead: int, after: timedelta) -> list[dict[str, Any]]:
    data = MemoryGateData()
    queue = _queue_ahead(ahead)
    data.store_manifests([VN, *queue], now=T0 - timedelta(days=1))
    decider, producer = _decider(data)
    await decider.handle(
        [
            _read(decider, f"q{n}", m.tractor_plate, T0 - timedelta(seconds=60 - n % 60))
            for n, m in enumerate(queue)
        ]
    )
    await decider.handle([_read(decider, "r1", "29H-123.45", T0, camera_id=EXPORT_GATE)])
    await decider.handle([_read(decider, "r2", "29H-123.45", T0 + after, camera_id=EXPORT_LANE)])
    return [d for d in producer.decisions() if d["manifest_id"] == "MF-VN"]


async def test_a_truck_read_again_while_still_queued_for_its_lane_keeps_its_decision() -> None:
    """A truck queued longer than the visit window is read at the lane-entry camera after
    the window: while the board still holds it in its lane's queue, that is the same truck,
    not a second one for review (until 2026-12-06 each such truck was a review item); once
    the board has it done, a visit of its manifest is reviewed as before."""
    (first,) = await _queued_then_read_again(120, timedelta(minutes=11))
    assert first["outcome"] == "assigned"
    done = datetime.fromisoformat(first["expected_done_at"])
    assert done - datetime.fromisoformat(first["decided_at"]) > timedelta(minutes=12)
    first, again = await _queued_then_read_again(120, done - T0 + timedelta(minutes=5))
    assert (again["outcome"], again["manifest_id"]) == ("needs_review", "MF-VN")
