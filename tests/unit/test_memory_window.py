"""The memory adapter's alert window (services/adapters/memory_gate.py) moves on from call
to call; what it gives is what a window taken afresh gives: the same sightings, manifest
versions, weighings and booking changes, with reads stored late, manifests re-versioned
(a tractor plate changed) and `now` standing still or going back."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from lanes.alert_rules import AlertRules
from lanes.alerts import Observations
from lanes.model import Direction, Manifest
from services.adapters.memory_gate import DroppedState, MemoryGateData, MemoryGateStore
from tests.unit.factories import HUU_NGHI, at

CAMERAS = ["hn-exp-approach-1", "hn-exp-gate-1", "hn-exp-exit-1", "hn-imp-gate-1", "nowhere"]
PLATES = [f"29H{n:05d}" for n in range(10)]


def _row(n: int, rng: random.Random, minutes: float) -> dict[str, Any]:
    plate = rng.choice(PLATES)
    other = rng.choice(PLATES)
    return {
        "event_id": f"r{n:04d}",
        "camera_id": rng.choice(CAMERAS),
        "gate_id": HUU_NGHI.gate_id,
        "captured_at": at(minutes),
        "plate_text": plate,
        "plate": plate,
        "payload": {"candidates": [{"text": other}] if rng.random() < 0.3 else []},
    }


def _same(a: Observations, b: Observations) -> None:
    assert sorted(a.sightings, key=lambda s: s.event_id) == sorted(
        b.sightings, key=lambda s: s.event_id
    )
    assert (a.manifests, a.weighings, a.bookings) == (b.manifests, b.weighings, b.bookings)


@pytest.mark.parametrize("seed", range(8))
async def test_the_moving_window_gives_what_a_fresh_one_gives(seed: int) -> None:
    rng = random.Random(seed)
    rules = AlertRules()
    data = MemoryGateData()
    store = MemoryGateStore(data)
    manifests = {
        p: Manifest(f"MF-{p}", "firm-01", Direction.EXPORT, p, window_start=at(0)) for p in PLATES
    }
    data.store_manifests(list(manifests.values())[:5], now=at(-60))
    minutes, n, seen = 0.0, 0, 0
    for _ in range(120):
        rows = []
        for _ in range(rng.randint(0, 5)):
            late = rng.random() < 0.2
            rows.append(_row(n, rng, minutes - rng.uniform(0, 200) if late else minutes))
            n += 1
        await store.add_reads(rows)
        if rng.random() < 0.1:
            p = rng.choice(PLATES)
            manifests[p] = replace(manifests[p], tractor_plate=rng.choice(PLATES))
            data.store_manifests([manifests[p]], now=at(minutes))
        minutes += rng.choice([0.0, 1.0, 5.0, 20.0])
        now = at(minutes - (30 if rng.random() < 0.05 else 0))  # now and then back
        moving = await store.observations(HUU_NGHI, rules, now=now)
        kept = data.windows.pop(HUU_NGHI.gate_id)
        fresh = await store.observations(HUU_NGHI, rules, now=now)
        data.windows[HUU_NGHI.gate_id] = kept
        _same(moving, fresh)
        seen += bool(moving.sightings) and bool(moving.manifests)
    assert seen > 60  # mostly not empty


@pytest.mark.parametrize("seed", range(4))
async def test_dropping_old_state_changes_no_answer(seed: int) -> None:
    """With `keep`, reads and visits older than the window (less `keep`) are dropped as
    event time goes on: the windows, recent visits and stored reads asked for are what the
    data that keeps everything gives, and asking before what was dropped raises."""
    rng = random.Random(seed)
    rules = AlertRules()
    full, kept = MemoryGateData(), MemoryGateData(keep=timedelta(hours=3))
    stores = [MemoryGateStore(full), MemoryGateStore(kept)]
    gate = HUU_NGHI.gate_id
    minutes, n = 0.0, 0
    for step in range(150):
        rows = []
        for _ in range(rng.randint(0, 5)):
            rows.append(_row(n, rng, minutes - rng.uniform(0, 30)))
            n += 1
        visits = [
            {
                "visit_id": f"v{step}",
                "gate_id": gate,
                "plate": rng.choice(PLATES),
                "direction": "export",
                "first_seen_at": at(minutes - 5),
                "last_seen_at": at(minutes),
                "read_count": 1,
            }
        ]
        for store in stores:
            await store.add_reads(rows)
            await store.add_visits(visits)
        minutes += rng.choice([1.0, 5.0, 20.0, 60.0])
        since, until = at(minutes - 40), at(minutes + 10)
        asked = [f"r{rng.randrange(n + 1):04d}" for _ in range(5)]
        got = []
        for store in stores:
            o = await store.observations(HUU_NGHI, rules, now=at(minutes))
            got.append(
                (
                    sorted(o.sightings, key=lambda s: s.event_id),
                    o.manifests,
                    sorted(
                        v.visit_id
                        for v in await store.recent_visits(gate, since=since, until=until)
                    ),
                    await store.stored_reads(asked),
                )
            )
        assert got[0] == got[1]
    assert kept.horizons and kept.dropped_reads and len(kept.visits) < len(full.visits)
    with pytest.raises(DroppedState):
        await stores[1].recent_visits(gate, since=at(0), until=at(minutes))
    with pytest.raises(DroppedState):
        await stores[1].observations(HUU_NGHI, rules, now=at(60))
