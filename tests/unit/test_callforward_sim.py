"""The simulated day under call-forward (issue 23): trucks wait in the waiting area, are
called, drive up and are served; the KPIs gain the road queue and the time from call to
gate; the same seed gives the same JSON; a full area sends trucks to the road."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from lanes.model import Direction
from services.gates.loader import get_gate
from services.simulation.callforward import DriverResponse, simulate_callforward
from services.simulation.day import default_day
from services.simulation.des import simulate
from services.simulation.kpis import level_percentile, summarise

HN = get_gate("huu-nghi")
MIN = timedelta(minutes=1)


def test_every_truck_is_called_drives_up_and_is_done() -> None:
    day = default_day(HN, trucks=400, seed=3)
    run = simulate(HN, day, policy="callforward")
    kpis = summarise(run)
    assert kpis["trucks_never_completed"] == 0
    assert kpis["call_to_gate_min"]["calls"] == 400
    drive = HN.waiting_areas[0].drive_time.total_seconds() / 60
    assert kpis["call_to_gate_min"]["p95"] == drive  # every driver answers at once
    for record in run.records.values():
        assert record.called_at is not None and record.done_at is not None
        assert record.truck.arrived_at <= record.called_at < record.reached_gate_at
    assert kpis["places_lost"] == 0
    assert set(kpis["road_queue"]["by_direction"]) == {"export", "import"}


def test_the_same_seed_gives_the_same_kpis() -> None:
    day = default_day(HN, trucks=300, seed=5)
    a = json.dumps(summarise(simulate(HN, day, policy="callforward")), sort_keys=True)
    b = json.dumps(summarise(simulate(HN, day, policy="callforward")), sort_keys=True)
    assert a == b


def test_a_full_waiting_area_leaves_trucks_on_the_road() -> None:
    areas = tuple(replace(a, capacity=1) for a in HN.waiting_areas)
    gate = replace(HN, waiting_areas=areas)
    day = default_day(gate, trucks=800, seed=2)
    kpis = summarise(simulate(gate, day, policy="callforward"))
    roomy = summarise(simulate(HN, day, policy="callforward"))
    assert kpis["trucks_never_completed"] == 0
    assert all(v["max"] <= 1 for v in kpis["waiting_area"].values())
    assert (
        kpis["road_queue"]["by_direction"]["export"]["max"]
        > (roomy["road_queue"]["by_direction"]["export"]["max"])
    )


def test_without_waiting_areas_callforward_is_todays_policy() -> None:
    gate = replace(HN, waiting_areas=())
    day = default_day(gate, trucks=300, seed=1)
    cf = summarise(simulate(gate, day, policy="callforward"))
    today = summarise(simulate(gate, day, policy="orchestrated"))
    assert cf["dwell_min"] == today["dwell_min"]
    assert cf["call_to_gate_min"]["calls"] == 0


def test_the_road_queue_percentile_is_weighted_by_time() -> None:
    start = datetime(2025, 6, 2)
    end = start + 100 * MIN
    # 0 for 90 minutes, 40 for 10 minutes
    changes = [(start, 0), (start + 90 * MIN, 40)]
    assert level_percentile(changes, start, end, 0.90) == 0
    assert level_percentile(changes, start, end, 0.95) == 40
    assert level_percentile([(start, 0)], start, end, 0.95) == 0


def test_both_directions_have_an_area() -> None:
    assert {a.direction for a in HN.waiting_areas} == set(Direction)


def test_drivers_who_miss_a_call_are_recalled_then_lose_their_place() -> None:
    day = default_day(HN, trucks=400, seed=3)
    response = DriverResponse(miss_first=0.1, miss_recall=0.5)
    run = simulate_callforward(HN, day, response=response)
    kpis = summarise(run)
    assert 20 <= kpis["recalled"] <= 70  # about 10% of 400
    assert 5 <= kpis["places_lost"] <= kpis["recalled"] // 2 + 10
    assert kpis["trucks_never_completed"] == kpis["places_lost"]
    recalled_and_came = [
        r
        for r in run.records.values()
        if r.done_at is not None
        and r.called_at is not None
        and r.reached_gate_at - r.called_at > HN.waiting_areas[0].drive_time
    ]
    assert len(recalled_and_came) == kpis["recalled"] - kpis["places_lost"]
    again = summarise(simulate_callforward(HN, day, response=response))
    assert again == kpis
