"""The simulated day (services/simulation/day.py) and its discrete-event simulation (des.py)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

import pytest

from lanes.board import Truck
from lanes.model import (
    BookingStatus,
    CargoClass,
    CustomsChannel,
    DailyHours,
    Direction,
    Gate,
    Lane,
    LaneKind,
)
from services.gates.loader import get_gate
from services.simulation.day import Day, DayTruck, default_day, hour_weights
from services.simulation.des import Incident, PolicyName, lognormal, simulate
from services.simulation.kpis import percentile, summarise

HN = get_gate("huu-nghi")
MIN = timedelta(minutes=1)
LOCAL = timezone(timedelta(hours=7))
START = datetime(2025, 6, 2, tzinfo=LOCAL)


def kpi_json(trucks: int, seed: int, policy: PolicyName) -> str:
    day = default_day(HN, trucks=trucks, seed=seed)
    return json.dumps(summarise(simulate(HN, day, policy=policy)), sort_keys=True)


# -- the day ------------------------------------------------------------------------------


def test_the_day_is_seeded() -> None:
    assert default_day(HN, trucks=200, seed=4) == default_day(HN, trucks=200, seed=4)
    assert default_day(HN, trucks=200, seed=4) != default_day(HN, trucks=200, seed=5)


def test_the_default_day_has_the_shape_of_the_issue() -> None:
    day = default_day(HN, trucks=3000, seed=1)
    trucks = [t.truck for t in day.trucks]
    n = len(trucks)

    def share(count: int) -> float:
        return count / n

    assert n == 3000
    assert [t.arrived_at for t in trucks] == sorted(t.arrived_at for t in trucks)
    assert all(day.start <= t.arrived_at < day.end for t in trucks)
    peak = sum(1 for t in trucks if t.arrived_at.hour in (7, 8, 9, 10, 13, 14, 15, 16))
    assert share(peak) == pytest.approx(0.70, abs=0.03)
    assert share(sum(t.direction is Direction.EXPORT for t in trucks)) == pytest.approx(
        0.6, abs=0.03
    )
    # about half the trucks ask for a slot; the peak slots hold fewer than ask (the file's
    # capacity, taken as the API takes it since 2026-12-06: until then every ask was booked
    # and half walked in), so about two thirds walk in
    asked = day.bookings + sum(day.bookings_refused.values())
    assert share(asked) == pytest.approx(0.5, abs=0.05)
    walk_ins = sum(t.booking is BookingStatus.WALK_IN for t in trucks)
    assert share(walk_ins) == pytest.approx(0.68, abs=0.05)
    booked = [t for t in day.trucks if t.slot_start is not None]
    late = sum(t.truck.arrived_at >= t.slot_start + 60 * MIN for t in booked if t.slot_start)
    assert late / len(booked) == pytest.approx(0.15, abs=0.03)
    assert day.no_shows / day.bookings == pytest.approx(0.08, abs=0.02)
    assert share(sum(t.perishable for t in trucks)) == pytest.approx(0.30, abs=0.03)
    hazmat = [t for t in trucks if CargoClass.HAZMAT in t.cargo]
    assert share(len(hazmat)) == pytest.approx(0.02, abs=0.01)
    assert not any(t.perishable for t in hazmat)
    assert share(sum(t.containers > 0 for t in trucks)) == pytest.approx(0.70, abs=0.03)
    channels = Counter(t.channel for t in trucks)
    assert share(channels[CustomsChannel.GREEN]) == pytest.approx(0.80, abs=0.03)
    assert share(channels[CustomsChannel.YELLOW]) == pytest.approx(0.15, abs=0.03)
    assert share(channels[CustomsChannel.RED]) == pytest.approx(0.05, abs=0.02)
    assert sum(hour_weights()) == pytest.approx(1.0)


def test_lognormal_quantiles_have_the_mean_and_the_median() -> None:
    mean, sd = 12 * MIN, 4 * MIN
    draws = [lognormal(mean, sd, (k + 0.5) / 2000) for k in range(2000)]
    average = sum(d.total_seconds() for d in draws) / len(draws)
    assert average == pytest.approx(720, rel=0.01)
    assert lognormal(mean, sd, 0.5) < mean  # right-skewed: median below the mean
    assert lognormal(mean, timedelta(0), 0.99) == mean


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50.0, 95.0)
    assert percentile([], 0.95) == 0.0


# -- the run ------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["fifo", "orchestrated"])
def test_the_same_seed_gives_byte_identical_kpis(policy: PolicyName) -> None:
    assert kpi_json(400, 7, policy) == kpi_json(400, 7, policy)
    assert kpi_json(400, 7, policy) != kpi_json(400, 8, policy)


@pytest.mark.parametrize("policy", ["fifo", "orchestrated"])
def test_trucks_are_conserved(policy: PolicyName) -> None:
    day = default_day(HN, trucks=600, seed=3)
    kpis = summarise(simulate(HN, day, policy=policy))
    assert kpis["trucks_arrived"] == 600
    assert kpis["trucks_completed"] + kpis["trucks_waiting_at_midnight"] == 600
    assert kpis["trucks_never_completed"] == 0
    assert kpis["arrived_before_22"] == (
        kpis["completed_same_day_of_arrived_before_22"]
        + kpis["not_completed_same_day_of_arrived_before_22"]
    )
    series = kpis["series"]
    assert len(series["queue_max"]["export"]) == 24
    assert all(0 <= u <= 1 for u in kpis["lane_utilisation"].values())


def test_the_orchestrated_run_uses_carriers_and_fifo_does_not() -> None:
    day = default_day(HN, trucks=4500, seed=2)
    orchestrated = summarise(simulate(HN, day, policy="orchestrated"))
    fifo = summarise(simulate(HN, day, policy="fifo"))
    assert orchestrated["containers_moved_by_carrier"] > 0
    assert orchestrated["trucks_by_carrier_slot"] > 0
    assert fifo["containers_moved_by_carrier"] == fifo["trucks_by_carrier_slot"] == 0
    assert orchestrated["dwell_min"]["p95"] < fifo["dwell_min"]["p95"]


# -- small hand-checked scenarios -----------------------------------------------------------


def _lane(lane_id: str, kind: LaneKind, minutes: float, *channels: CustomsChannel) -> Lane:
    return Lane(
        lane_id,
        "tiny",
        Direction.EXPORT,
        kind,
        minutes * MIN,  # sd 0: every service takes exactly the mean
        accepts=frozenset({CargoClass.GENERAL}),
        channels=frozenset(channels),
    )


def _day(*arrivals: tuple[str, float, CustomsChannel]) -> Day:
    trucks = tuple(
        DayTruck(
            Truck(
                visit_id,
                Direction.EXPORT,
                START + timedelta(hours=10) + minute * MIN,
                channel,
                frozenset({CargoClass.GENERAL}),
                0,
                BookingStatus.WALK_IN,
            ),
            service_q=0.5,
            handover_q=0.5,
        )
        for visit_id, minute, channel in arrivals
    )
    return Day(start=START, seed=0, trucks=trucks, bookings=0, no_shows=0)


def _dwell(gate: Gate, day: Day, policy: PolicyName) -> dict[str, float]:
    run = simulate(gate, day, policy=policy)
    return {
        visit_id: (r.done_at - r.truck.arrived_at) / MIN
        for visit_id, r in run.records.items()
        if r.done_at is not None
    }


GREEN, RED = CustomsChannel.GREEN, CustomsChannel.RED


@pytest.mark.parametrize("policy", ["fifo", "orchestrated"])
def test_one_lane_by_hand(policy: PolicyName) -> None:
    gate = Gate("tiny", "tiny", (), (_lane("A", LaneKind.STANDARD, 2, GREEN),), approach_time=MIN)
    day = _day(("t1", 0, GREEN), ("t2", 0.5, GREEN), ("t3", 10, GREEN))

    dwell = _dwell(gate, day, policy)

    # t1: 1 min approach + 2 min service; t2 reaches the lane at 10:01:30, waits for t1 until
    # 10:03, done 10:05 (4.5 min after 10:00:30); t3 finds the lane idle: 3 min
    assert dwell == {"t1": 3.0, "t2": 4.5, "t3": 3.0}
    kpis = summarise(simulate(gate, day, policy=policy))
    assert kpis["dwell_min"] == {"median": 3.0, "p95": 4.5, "max": 4.5}
    assert kpis["longest_queue"]["export"] == 1


def test_fifo_blocks_behind_its_head_and_orchestrated_does_not() -> None:
    gate = Gate(
        "tiny",
        "tiny",
        (),
        (_lane("A", LaneKind.STANDARD, 2, GREEN), _lane("B", LaneKind.INSPECTION, 12, RED)),
        approach_time=MIN,
    )
    day = _day(("red-1", 0, RED), ("red-2", 0.1, RED), ("green", 0.2, GREEN))

    fifo = _dwell(gate, day, "fifo")
    orchestrated = _dwell(gate, day, "orchestrated")

    # red-2 waits for the bay until 10:13; in fifo the green truck behind it waits too,
    # though lane A is idle: it starts at 10:13 and is done at 10:15
    assert fifo["green"] == pytest.approx(14.8)
    assert orchestrated["green"] == pytest.approx(3.0)
    assert fifo["red-2"] == orchestrated["red-2"] == pytest.approx(24.9)


def test_a_lane_closed_during_the_day_has_its_queue_replanned() -> None:
    gate = Gate(
        "tiny",
        "tiny",
        (),
        (_lane("A", LaneKind.STANDARD, 5, GREEN), _lane("B", LaneKind.STANDARD, 5, GREEN)),
        approach_time=MIN,
    )
    day = _day(*((f"t{n}", n * 0.1, GREEN) for n in range(6)))  # 3 a lane
    closed = Incident(START + timedelta(hours=10, minutes=2), "lane_closed", "A")

    run = simulate(gate, day, policy="orchestrated", incidents=(closed,))

    assert run.replanned == 2  # t2 and t4 were queued on A; t0 is served there
    places = {v: r.place for v, r in run.records.items()}
    assert places == {"t0": "A", "t1": "B", "t2": "B", "t3": "B", "t4": "B", "t5": "B"}
    assert all(r.done_at is not None for r in run.records.values())


def test_a_re_plan_that_tells_a_truck_nothing_new_is_not_counted() -> None:
    """As the live path gives no revision for it (lanes.revise.changes_anything): a red
    truck waiting for its only lane to open at 11:00 is re-planned when another lane
    closes, back to the same lane at the same time: no news, not a re-plan."""
    bay = replace(_lane("A", LaneKind.STANDARD, 5, RED), hours=DailyHours(((time(11), time(22)),)))
    gate = Gate(
        "tiny", "tiny", (), (bay, _lane("B", LaneKind.STANDARD, 5, GREEN)), approach_time=MIN
    )
    day = _day(("t0", 0, RED), ("t1", 1, GREEN))
    closed = Incident(START + timedelta(hours=10, minutes=30), "lane_closed", "B")

    run = simulate(gate, day, policy="orchestrated", incidents=(closed,))

    assert run.replanned == 0
    assert run.records["t0"].place == "A"
    assert run.records["t0"].done_at == START + timedelta(hours=11, minutes=5)


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="policy"):
        simulate(HN, default_day(HN, trucks=1, seed=1), policy="random")  # type: ignore[arg-type]


def test_the_day_starts_at_local_midnight() -> None:
    day = default_day(HN, trucks=10, seed=1, day=date(2025, 7, 1))
    assert day.start == datetime(2025, 7, 1, tzinfo=LOCAL)
    assert day.end - day.start == timedelta(days=1)


@pytest.mark.parametrize("policy", ["fifo", "orchestrated"])
def test_a_lane_working_past_its_hours_is_not_busy_more_than_all_the_time(
    policy: PolicyName,
) -> None:
    """A truck whose service overruns the lane's closing is finished there: the lane's
    utilisation counts that overtime against the time it was open or working, never above 1
    (found by a stranger's try: a bay open 06:00-22:00 showed 1.006)."""
    lane = replace(
        _lane("A", LaneKind.STANDARD, 2, GREEN),
        service_sd=MIN,
        hours=DailyHours(((time(10), time(10, 4)),)),
    )
    gate = Gate("tiny", "tiny", (), (lane,), approach_time=MIN)
    slow = replace(_day(("t0", -1, GREEN)).trucks[0], service_q=0.99)  # about 4.6 min
    day = replace(_day(), trucks=(slow,))

    run = simulate(gate, day, policy=policy)

    done = run.records["t0"].done_at
    assert done is not None and done > START + timedelta(hours=10, minutes=4)
    assert summarise(run)["lane_utilisation"] == {"A": 1.0}


@pytest.mark.parametrize("policy", ["fifo", "orchestrated"])
def test_each_truck_never_completed_is_counted_with_why(policy: PolicyName) -> None:
    """A gate file with no lane for red trucks (a stranger's own gate) leaves them undone:
    the KPIs say so, by what the gate lacks, apart from the trucks still queued when the run
    stopped (a day after the day), so every truck is done or counted with its reason."""
    slow = replace(_lane("A", LaneKind.STANDARD, 20 * 60, GREEN), service_sd=timedelta(0))
    gate = Gate("tiny", "tiny", (), (slow,), approach_time=MIN)
    day = _day(("g1", 0, GREEN), ("g2", 1, GREEN), ("g3", 2, GREEN), ("red", 3, RED))

    kpis = summarise(simulate(gate, day, policy=policy))

    # g1 is done at 06:01 the next day; g2 would be at 02:01 the day after, when the run has
    # stopped (midnight), g3 still queued behind it
    assert kpis["trucks_never_completed"] == 3
    assert kpis["trucks_never_completed_why"] == {
        "no export lane takes red general cargo": 1,
        "still waiting when the run stopped, 24 h after the day": 2,
    }


def test_a_gate_that_takes_no_bookings_has_walk_ins_only() -> None:
    """A gate file without [booking] takes no bookings: its simulated day had half its trucks
    on booked slots, served first, and counted bookings and no-shows (found by a stranger's
    try on their own gate file)."""
    gate = replace(HN, booking=None)

    day = default_day(gate, trucks=300, seed=1)

    assert (day.bookings, day.no_shows) == (0, 0)
    assert {t.truck.booking for t in day.trucks} == {BookingStatus.WALK_IN}
    assert all(t.slot_start is None for t in day.trucks)
    assert len(day.trucks) == 300
    kpis = summarise(simulate(gate, day, policy="orchestrated"))
    assert (kpis["bookings"], kpis["no_shows"], kpis["trucks_arrived"]) == (0, 0, 300)


def test_refused_counts_trucks_not_retries() -> None:
    """A truck no lane takes is tried again each time a lane opens: `refused` counted every
    try, and a stranger's gate file showed 1,297 refused of 1,000 trucks."""
    day_lane = replace(
        _lane("A", LaneKind.STANDARD, 2, GREEN), hours=DailyHours(((time(6), time(22)),))
    )
    gate = Gate("tiny", "tiny", (), (day_lane,), approach_time=MIN)
    day = _day(("red", 0, RED), ("green", 1, GREEN))

    kpis = summarise(simulate(gate, day, policy="orchestrated"))

    assert kpis["refused"] == 1
    assert kpis["trucks_never_completed_why"] == {"no export lane takes red general cargo": 1}
