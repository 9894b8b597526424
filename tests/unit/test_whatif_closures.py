"""A what-if that closes lanes (found by a stranger analyst: "what if HN-E3 had been shut all
day?", "what if HN-E1 and HN-E2 had been closed 10:00-14:00?" could not be asked). The file's
`[[closures]]` (errors name the field), then a simulated day replayed in memory with the
closures as the control room's lane events: the closed lanes get no truck while closed, the
trucks queued there are re-planned as live, the same bytes run to run."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from lanes.policy import OrchestratedPolicy
from services.archive.records import ArchivedRecord
from services.gates.loader import GateConfigError, default_gates
from services.replay.closing import close_lanes
from services.replay.closures import Closure, for_range, without_a_lane
from services.replay.compare import latest, truck_diff
from services.replay.inputs import (
    LANE_EVENT_WORKER,
    InputBatch,
    ManifestVersion,
    ReplayInputs,
    assemble,
    decision_line,
)
from services.replay.sandbox import run_sandbox
from services.replay.whatif import WhatIf, load_what_if
from services.simulation.traffic import archived_reads, plan_traffic
from streams.codec import encode_enveloped
from streams.lane_events import LANE_EVENT_TYPE, LaneEventV1

GATES = default_gates()
GATE = GATES["huu-nghi"]
DAY = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)  # 07:00 at the gate
FROM, TO = DAY + timedelta(hours=3), DAY + timedelta(hours=7)  # 10:00-14:00 at the gate
STRETCH = """
[[closures]]
ids = ["HN-E1", "HN-E2"]
from = 2026-12-06T10:00:00+07:00
to = 2026-12-06T14:00:00+07:00
"""


def _load(tmp_path: Path, text: str) -> WhatIf:
    policy = tmp_path / "whatif.toml"
    policy.write_text(text, encoding="utf-8")
    return load_what_if(policy, GATES, gates_dir=None)


def _refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(GateConfigError) as caught:
        _load(tmp_path, text)
    return str(caught.value)


def test_closures_name_lanes_and_a_stretch_of_event_time(tmp_path: Path) -> None:
    scenario = _load(tmp_path, STRETCH + '[[closures]]\nids = ["HN-E3"]\n')
    assert scenario.closures == (
        Closure(0, "huu-nghi", ("HN-E1", "HN-E2"), FROM, TO),
        Closure(1, "huu-nghi", ("HN-E3",), None, None),  # the whole replayed range
    )
    assert scenario.gates == GATES  # not a change of the gate file: a lane event
    # times as strings too, in UTC or the gate's time
    scenario = _load(tmp_path, STRETCH.replace("2026-12-06T10:00:00+07:00", '"2026-12-06T03Z"'))
    assert scenario.closures[0].start == FROM


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[closures]]\nids = ["HN-E99", "HN-E1"]\n',
            "whatif.toml: closures[0].ids: no lane ['HN-E99'] in gate huu-nghi (its lanes: "
            "HN-E1, HN-E2,",
        ),
        ("[[closures]]\n", "whatif.toml: closures[0].ids: name the lanes to close, e.g. ids = "),
        ('[[closures]]\nids = "HN-E1"\n', "whatif.toml: closures[0].ids: name the lanes"),
        (
            STRETCH.replace("to = 2026-12-06T14", "to = 2026-12-06T09"),
            "whatif.toml: closures[0].to: 2026-12-06 09:00:00+07:00 is not after from "
            "(2026-12-06 10:00:00+07:00): a closure ends after it begins",
        ),
        (
            STRETCH.replace("10:00:00+07:00", "10:00:00"),
            "whatif.toml: closures[0].from: 2026-12-06 10:00:00 has no UTC offset: write it "
            "with one, e.g. 2026-12-06T10:00:00+07:00 (the gate's local time) or "
            "2026-12-06T03:00:00Z",
        ),
        (
            STRETCH.replace("2026-12-06T10:00:00+07:00", "2026-12-06"),
            "whatif.toml: closures[0].from: 2026-12-06 is a date: give a time with its offset",
        ),
        (
            STRETCH.replace("2026-12-06T10:00:00+07:00", "10:00:00"),
            "whatif.toml: closures[0].from: 10:00:00 is a time of day without its date: give",
        ),
        (
            STRETCH.replace("2026-12-06T10:00:00+07:00", '"ten o\'clock"'),
            'whatif.toml: closures[0].from: "ten o\'clock" is not an ISO 8601 time',
        ),
        (
            '[[closures]]\nids = ["HN-E1"]\nuntil = 2026-12-06T14:00:00+07:00\n',
            "whatif.toml: closures[0].until: no such field of a closure (a [[closures]] "
            "entry takes ids, and from and to)",
        ),
        (
            '[closures]\nids = ["HN-E1"]\n',
            "whatif.toml: closures: an array of tables: write each entry as [[closures]], "
            "not [closures]",
        ),
        (
            '[[closure]]\nids = ["HN-E1"]\n',
            "whatif.toml: closure: unknown key (a what-if file takes: closures, gate, ",
        ),
        (
            '[[lanes]]\nids = ["HN-E1"]\nclosed = true\n',
            "whatif.toml: lanes[0]: closed: no such field of a lane (a [[lanes]] entry sets "
            "ids and any of: accepts, channels, direction, hours, kind, service); to close "
            "these lanes, a [[closures]] entry: ids, and from and to",
        ),
    ],
)
def test_a_closure_the_replay_cannot_use_names_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    assert _refusal(tmp_path, text).startswith(message)


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        (
            "2026-03-01T10:00:00",
            "e.g. 2026-03-01T10:00:00+07:00 (the gate's local time) or 2026-03-01T03:00:00Z",
        ),
        (
            "2026-03-01",
            "e.g. 2026-03-01T00:00:00+07:00 (the gate's local time) or 2026-02-28T17:00:00Z",
        ),
        (
            '"2026-03-01 02:30"',
            "e.g. 2026-03-01T02:30:00+07:00 (the gate's local time) or 2026-02-28T19:30:00Z",
        ),
        ("0001-01-01T03:00:00", "e.g. 2026-12-06T10:00:00+07:00 (the gate's local time)"),
    ],
)
def test_a_closure_time_without_its_offset_is_shown_on_its_own_day(
    tmp_path: Path, written: str, hint: str
) -> None:
    # found replaying 2026-02-28: `from = 2026-03-01T10:00:00` was answered "e.g.
    # 2026-12-06T10:00:00+07:00", another day, which copied closes nothing in the range
    text = STRETCH.replace("2026-12-06T10:00:00+07:00", written)
    assert hint in _refusal(tmp_path, text)


def test_a_closure_outside_a_range_typed_in_gate_time_is_named_in_gate_time(
    tmp_path: Path,
) -> None:
    # found replaying 2026-02-28 (+07:00): a closure written 2026-02-20T10:00:00+07:00 was
    # named "2026-02-20T03:00:00+00:00 to ..." beside the range as typed, in +07:00
    scenario = _load(tmp_path, STRETCH.replace("2026-12-06", "2026-02-20"))
    local = timezone(timedelta(hours=7))
    start = datetime(2026, 2, 28, tzinfo=local)
    with pytest.raises(GateConfigError) as caught:
        for_range(scenario.closures, start=start, end=start + timedelta(days=2), source="w")
    assert str(caught.value) == (
        "w: closures[0]: 2026-02-20T10:00:00+07:00 to 2026-02-20T14:00:00+07:00 closes "
        "nothing in the replayed range (2026-02-28T00:00:00+07:00 to 2026-03-02T00:00:00+07:00)"
    )


def test_a_closure_outside_the_replayed_range_is_refused(tmp_path: Path) -> None:
    scenario = _load(tmp_path, STRETCH)
    with pytest.raises(GateConfigError) as caught:
        for_range(scenario.closures, start=TO, end=TO + timedelta(days=1), source="whatif.toml")
    assert str(caught.value) == (
        "whatif.toml: closures[0]: 2026-12-06T03:00:00+00:00 to 2026-12-06T07:00:00+00:00 "
        "closes nothing in the replayed range (2026-12-06T07:00:00+00:00 to "
        "2026-12-07T07:00:00+00:00)"
    )
    # one reaching into the range is the range's; one with no times is the whole range
    dated = for_range(
        scenario.closures, start=FROM + timedelta(hours=1), end=TO, source="whatif.toml"
    )
    assert (dated[0].start, dated[0].end) == (FROM, TO)
    whole = for_range(
        _load(tmp_path, '[[closures]]\nids = ["HN-E3"]\n').closures,
        start=DAY,
        end=DAY + timedelta(days=1),
        source="whatif.toml",
    )
    assert (whole[0].start, whole[0].end) == (DAY, DAY + timedelta(days=1))


def test_a_closure_that_leaves_a_cargo_no_lane_says_so(tmp_path: Path) -> None:
    # HN-E12 is the only export lane for hazmat
    scenario = _load(tmp_path, STRETCH.replace('"HN-E1", "HN-E2"', '"HN-E12"'))
    dated = for_range(scenario.closures, start=DAY, end=DAY + timedelta(days=1), source="w")
    assert without_a_lane(dated, GATES) == [
        "2026-12-06 10:00 to 14:00 (UTC+07:00): no open export lane takes hazmat cargo "
        "(green, yellow, red; closed: HN-E12)"
    ]
    assert (
        without_a_lane(
            for_range(_load(tmp_path, STRETCH).closures, start=DAY, end=TO, source="w"), GATES
        )
        == []
    )


# a busy simulated morning (09:30 to 10:50 at the gate), replayed in memory, HN-E1 and HN-E2
# closed from 10:00 to 10:30

UNTIL = FROM + timedelta(minutes=30)
SHORT = STRETCH.replace("to = 2026-12-06T14:00:00", "to = 2026-12-06T10:30:00")
CLOSED = {"HN-E1", "HN-E2"}


def _day() -> ReplayInputs:
    plan = plan_traffic(
        gate=GATE,
        trucks=700,
        start=DAY + timedelta(hours=2, minutes=30),
        seed=3,
        span=timedelta(minutes=80),
    )
    versions = [
        ManifestVersion(m, "simulator", DAY - timedelta(hours=1), seq)
        for seq, m in enumerate(plan.manifests, start=1)
    ]
    return assemble(archived_reads(plan.reads), [], versions, fallback_batch=25)


def _with_lane_events(inputs: ReplayInputs, *events: tuple[str, str, datetime]) -> ReplayInputs:
    """`inputs` with the recorded lane events `(kind, lane, at)` (a controller's), each in a
    batch of its own before the first batch reaching its time."""
    batches = list(inputs.batches)
    for n, (kind, lane, at) in enumerate(events):
        event = LaneEventV1.model_validate(
            {"event_id": f"r-{n}", "gate_id": "huu-nghi", "kind": kind, "at": at, "lane_id": lane}
        )
        value, _ = encode_enveloped(
            event, event_id=f"r-{n}", type_=LANE_EVENT_TYPE, occurred_at=at, producer="test"
        )
        record = ArchivedRecord(
            "borderflow.lane-events", 0, n, 0, b"huu-nghi", value, (), f"r-{n}", at
        )
        where = next(i for i, b in enumerate(batches) if max(r.event_time for r in b.records) >= at)
        batches.insert(where, InputBatch(LANE_EVENT_WORKER, (record,), None))
    return replace(inputs, batches=tuple(batches))


async def _replay(inputs: ReplayInputs, closures: tuple[Closure, ...]) -> list[dict[str, Any]]:
    dated = for_range(closures, start=DAY, end=DAY + timedelta(days=1), source="whatif.toml")
    closed = close_lanes(inputs, dated, source="whatif.toml")
    result = await run_sandbox(closed.inputs, gates=GATES, policy=OrchestratedPolicy())
    return list(result.decisions)


def _at(d: dict[str, Any], field: str = "decided_at") -> datetime:
    return datetime.fromisoformat(str(d[field]))


def _on_while_closed(
    decisions: list[dict[str, Any]], lanes: set[str], start: datetime, end: datetime
) -> list[str]:
    """The decisions that send a truck to one of `lanes` while they are closed: made then,
    or standing when they closed and starting after (one in service then stays)."""
    return [
        f"{d['visit_id']} r{d['revision']} {d['lane_id']} at {d['decided_at']}"
        for d in latest(decisions).values()
        if d.get("lane_id") in lanes
        and d.get("expected_start_at")
        and start < _at(d, "expected_start_at") < end
    ] + [
        f"{d['visit_id']} r{d['revision']} {d['lane_id']} at {d['decided_at']}"
        for d in decisions
        if d.get("lane_id") in lanes and start <= _at(d) < end
    ]


async def test_closed_lanes_get_no_truck_and_their_queue_is_re_planned(tmp_path: Path) -> None:
    inputs = _day()
    closures = _load(tmp_path, SHORT).closures
    recorded = await _replay(inputs, ())
    assert len(_on_while_closed(recorded, CLOSED, FROM, UNTIL)) > 20  # busy lanes
    replayed = await _replay(inputs, closures)
    assert _on_while_closed(replayed, CLOSED, FROM, UNTIL) == []
    # the trucks queued there at 10:00 were re-planned by the live rule, as live
    moved = [d for d in replayed if d["revision"] > 0]
    assert moved and all(_at(d) == FROM for d in moved)
    assert all(d["reason"].startswith("re-planned: lane HN-E") for d in moved)
    assert all(" closed at 10:00 -> " in d["reason"] for d in moved)
    # the lanes take trucks again from 10:30
    assert any(d.get("lane_id") in CLOSED and _at(d) >= UNTIL for d in replayed)
    diff = truck_diff(recorded, replayed)
    off = [r for r in diff if r["recorded"] and r["recorded"]["lane_id"] in CLOSED]
    assert len(off) > 20
    while_closed = [r for r in off if FROM <= _at(r, "seen_at") < UNTIL]
    assert while_closed and all(r["replayed"]["lane_id"] not in CLOSED for r in while_closed)
    again = await _replay(inputs, closures)  # the same bytes run to run
    assert [decision_line(d) for d in again] == [decision_line(d) for d in replayed]


async def test_a_whole_range_closure_keeps_the_lane_empty_all_day(tmp_path: Path) -> None:
    replayed = await _replay(_day(), _load(tmp_path, '[[closures]]\nids = ["HN-E3"]\n').closures)
    assert len(replayed) > 500 and not [d for d in replayed if d.get("lane_id") == "HN-E3"]


async def test_the_records_own_openings_do_not_end_a_closure(tmp_path: Path) -> None:
    """A controller's recorded closure and reopening of HN-E1 inside the what-if's: the
    lane stays closed to 10:30; one closing HN-E2 at 10:25 until 10:40 keeps it closed to
    10:40."""
    minute = timedelta(minutes=1)
    inputs = _with_lane_events(
        _day(),
        ("lane_closed", "HN-E1", FROM + 5 * minute),
        ("lane_opened", "HN-E1", FROM + 10 * minute),
        ("lane_closed", "HN-E2", UNTIL - 5 * minute),
        ("lane_opened", "HN-E2", UNTIL + 10 * minute),
    )
    closures = _load(tmp_path, SHORT).closures
    dated = for_range(closures, start=DAY, end=DAY + timedelta(days=1), source="whatif.toml")
    assert close_lanes(inputs, dated, source="whatif.toml").set_aside == 3
    replayed = await _replay(inputs, closures)
    assert _on_while_closed(replayed, CLOSED, FROM, UNTIL) == []
    assert _on_while_closed(replayed, {"HN-E2"}, UNTIL, UNTIL + 10 * minute) == []
    assert any(d.get("lane_id") == "HN-E1" and _at(d) >= UNTIL for d in replayed)
    assert any(d.get("lane_id") == "HN-E2" and _at(d) >= UNTIL + 10 * minute for d in replayed)
