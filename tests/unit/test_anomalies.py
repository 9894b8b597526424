"""Injected anomalies (services/simulation/anomalies.py, issue 22): the ordinary plan is
unchanged, every kind is injected with its ground truth, and the rules find them."""

from __future__ import annotations

from datetime import UTC, datetime

from lanes.alerts import evaluate
from services.gates.loader import get_gate
from services.simulation.alert_inputs import observations
from services.simulation.anomalies import KINDS, AnomalySpec
from services.simulation.traffic import plan_traffic

GATE = get_gate("huu-nghi")
START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def test_without_anomalies_the_plan_is_what_it_was() -> None:
    plain = plan_traffic(gate=GATE, trucks=200, start=START, seed=5)
    again = plan_traffic(gate=GATE, trucks=200, start=START, seed=5, anomalies=None)
    assert plain == again and plain.anomalies is None
    spiked = plan_traffic(gate=GATE, trucks=200, start=START, seed=5, anomalies=AnomalySpec())
    assert spiked.trucks == plain.trucks
    ordinary = {r.event_id: r for r in spiked.reads}
    for read in plain.reads:  # the same reads, the portal's container numbers added
        assert ordinary[read.event_id].model_copy(update={"container_numbers": []}) == read


def test_every_kind_is_injected_and_found_with_no_false_alert() -> None:
    plan = plan_traffic(
        gate=GATE, trucks=600, start=START, seed=3, anomalies=AnomalySpec(per_kind=3)
    )
    world = plan.anomalies
    assert world is not None
    assert sorted({i.rule for i in world.injected}) == sorted(KINDS)
    obs = observations(plan.reads, GATE, world)
    now = max(s.at for s in obs.sightings)
    alerts = evaluate(obs, now=now)
    raised = {(a.rule, a.subject) for a in alerts}
    assert {(i.rule, i.subject) for i in world.injected} <= raised
    touched = {s for i in world.injected for s in i.touches}
    assert [a for a in alerts if a.subject not in touched] == []
    assert evaluate(obs, now=now) == alerts
