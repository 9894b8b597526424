"""The alert step's look-back of reads and the manifest versions it asks about, kept in the
worker (services/alerts/kept_window.py), against the full read, on SQLite and PostgreSQL,
through the SQL adapter the decider uses (`sql_gate_stores`): 160 batches of generated
reads (plates seen again, OCR candidates, a camera the gate does not have, reads out of
event-time order), reads another worker stores between batches, batches rolled back after
the rules read, manifests filed and amended (a tractor plate changed to another plate and
back). At every batch the sightings and the manifest versions equal the full read's, and
the look-back is loaded again only when the database differs from what the worker kept."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.alerts import AlertRules
from lanes.model import Manifest
from services.adapters.sql_gate import SqlGateStore, sql_gate_stores
from services.alerts.observations import observations
from services.db import repository as repo
from services.db.engine import session_factory
from services.db.manifests import upsert_manifests
from services.gates.loader import default_gates, get_gate
from tests.integration.test_kept_bookings import _manifest as kept_bookings_manifest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

GATE = get_gate("huu-nghi", default_gates())
RULES = AlertRules()
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))
CAMERAS = [c.camera_id for c in GATE.cameras] + ["retired-camera"]
PLATES = [f"29C{n:05d}" for n in range(40)]


def _read(rng: random.Random, n: int, at: datetime, who: str) -> dict[str, Any]:
    plate = rng.choice(PLATES)
    payload: dict[str, Any] = {"plate_text": plate}
    if rng.random() < 0.3:
        payload["candidates"] = [{"text": rng.choice(PLATES), "confidence": 0.2}]
    if rng.random() < 0.2:
        payload["container_numbers"] = [f"MSCU{n:07d}"]
    return {
        "event_id": f"{who}-{n:05d}",
        "camera_id": rng.choice(CAMERAS),
        "gate_id": GATE.gate_id,
        # the wall clock of Hanoi for some: the adapter keeps what it was given
        "captured_at": at if n % 2 else at.astimezone(HANOI),
        "plate_text": plate,
        "plate": plate,
        "confidence": 0.9,
        "payload": payload,
        "visit_id": f"v-{n}",
        "source_topic": "borderflow.plate_reads",
        "source_partition": 0,
        "source_offset": n,
        "received_at": T0,
    }


def _manifest(n: int, tractor: str, cargo: str) -> Manifest:
    return replace(kept_bookings_manifest(f"m-{n}", "f1", tractor), cargo_description=cargo)


class RolledBack(Exception):
    pass


async def test_the_kept_look_back_and_versions_give_what_the_full_read_gives(
    engine: AsyncEngine,
) -> None:
    rng = random.Random(26)
    sessions = session_factory(engine)
    stores = sql_gate_stores(sessions)
    now = T0
    n = 0
    foreign = rolled = amended = 0
    kept = None
    for batch in range(160):
        now += timedelta(minutes=rng.choice([1, 2, 5, 9]))
        if rng.random() < 0.15:  # another worker stores reads of the gate
            async with sessions() as session, session.begin():
                rows = [
                    _read(rng, n + i, now - timedelta(seconds=30 * i), "other") for i in range(3)
                ]
                await repo.insert_reads(session=session, rows=rows)
            n, foreign = n + 3, foreign + 1
        if rng.random() < 0.2:  # a manifest filed, or amended (another plate, or back)
            async with sessions() as session, session.begin():
                m = rng.randrange(30)
                r = rng.random()
                # its own plate, another plate read, or a plate never read
                tractor = PLATES[m] if r < 0.5 else rng.choice(PLATES) if r < 0.7 else "51D00001"
                await upsert_manifests(
                    session=session, manifests=[_manifest(m, tractor, f"c{batch}")], now=now
                )
            amended += 1
        rows = [
            _read(rng, n + i, now - timedelta(seconds=rng.randint(0, 600)), "mine")
            for i in range(rng.randint(1, 6))
        ]
        n += len(rows)
        roll_back = rng.random() < 0.08
        try:
            async with stores() as store:
                assert isinstance(store, SqlGateStore)
                kept = store.kept
                await store.add_reads(rows)
                got = await store.observations(GATE, RULES, now=now)
                full = await observations(store.session, GATE, RULES, now=now)
                assert got.sightings == full.sightings, f"batch {batch}"
                assert got.manifests == full.manifests, f"batch {batch}"
                assert got.weighings == full.weighings
                if roll_back:
                    raise RolledBack
        except RolledBack:
            rolled += 1
    assert kept is not None
    assert foreign > 5 and rolled > 3 and amended > 10
    assert len(full.sightings) > 100 and full.manifests  # the look-back filled
    # loaded on the first batch, then again only after another worker's reads or a rollback
    assert kept.reads.loads <= 1 + foreign + rolled, kept.reads.loads
