"""The incremental OrchestratedPolicy against the implementation it replaced
(`lanes.policy.reference.ReferencePolicy`, issue 26 item 3): on simulated days, every call the
simulation makes (assign, and the assigns of replan and rebalance) gives the same Assignment
and an equal Board from both, on the shipped gate and on variants of it (other open hours for
lanes and carriers, two containers a trip, lane closures and carrier outages). The 100-day
check is bench/policy.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lanes.board import Board, Truck
from lanes.model import Assignment, DailyHours, Gate
from lanes.policy import OrchestratedPolicy
from lanes.policy.reference import ReferencePolicy
from services.gates.loader import default_gates, get_gate
from services.simulation import des
from services.simulation.day import default_day
from services.simulation.des import Incident, simulate

HOURS = (
    DailyHours(),
    DailyHours(((time(0), time(0)),)),
    DailyHours(((time(6), time(22)),)),
    DailyHours(((time(22), time(6)),)),
    DailyHours(((time(5), time(11)), (time(11), time(13)), (time(14), time(20)))),
    DailyHours(((time(7, 30), time(7, 50)),)),
)


class Checked(OrchestratedPolicy):
    """The live policy, checked against the reference on every assign."""

    __slots__ = ("calls", "reference")

    def __init__(self) -> None:
        super().__init__()
        self.reference = ReferencePolicy()
        self.calls = 0

    def assign(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[Assignment, Board]:
        got = super().assign(truck, board, gate, now=now)
        want = self.reference.assign(truck, board, gate, now=now)
        assert got[0] == want[0], (truck, now)
        assert got[1] == want[1], (truck, now)
        self.calls += 1
        return got


def run_checked(gate: Gate, *, trucks: int, seed: int, incidents: tuple[Incident, ...] = ()) -> int:
    """Simulate the day with the checked policy; returns the assigns checked."""
    policies: list[Checked] = []

    def make() -> Checked:
        policies.append(Checked())
        return policies[-1]

    with mock.patch.object(des, "OrchestratedPolicy", make):
        simulate(
            gate,
            default_day(gate, trucks=trucks, seed=seed),
            policy="orchestrated",
            incidents=incidents,
        )
    return sum(p.calls for p in policies)


def shipped() -> Gate:
    return get_gate("huu-nghi", default_gates())


def test_a_shipped_day_is_decided_identically() -> None:
    assert run_checked(shipped(), trucks=1500, seed=7) > 1000


@st.composite
def variants(draw: st.DrawFn) -> tuple[Gate, tuple[Incident, ...]]:
    gate = shipped()
    lanes = tuple(
        replace(lane, hours=draw(st.sampled_from(HOURS))) if draw(st.booleans()) else lane
        for lane in gate.lanes
    )
    fleet = gate.fleet
    assert fleet is not None
    carriers = tuple(
        replace(c, charging=draw(st.sampled_from(HOURS[2:]))) if draw(st.booleans()) else c
        for c in fleet.carriers
    )
    fleet = replace(
        fleet,
        carriers=carriers,
        hours=draw(st.sampled_from(HOURS[:5])),
        containers_per_trip=draw(st.integers(1, 2)),
    )
    offset = timedelta(hours=draw(st.sampled_from([7, 8, 0, -5])))
    gate = replace(gate, lanes=lanes, fleet=fleet, utc_offset=offset)
    start = default_day(gate, trucks=0).start
    incidents = tuple(
        Incident(
            start + timedelta(minutes=draw(st.integers(0, 24 * 60))),
            kind,
            draw(st.sampled_from([lane.lane_id for lane in lanes]))
            if kind.startswith("lane")
            else draw(st.sampled_from([c.carrier_id for c in carriers])),
        )
        for kind in draw(
            st.lists(
                st.sampled_from(["lane_closed", "lane_opened", "carrier_out", "carrier_back"]),
                max_size=6,
            )
        )
    )
    return gate, incidents


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variants(), st.integers(1, 10_000), st.integers(50, 400))
def test_variant_days_are_decided_identically(
    case: tuple[Gate, tuple[Incident, ...]], seed: int, trucks: int
) -> None:
    gate, incidents = case
    assert run_checked(gate, trucks=trucks, seed=seed, incidents=incidents) > 0
