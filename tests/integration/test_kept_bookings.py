"""The worker's kept booking look-back (services/alerts/kept.py) against the full read, on
PostgreSQL: ten generated days of booking events (firms with every no-show rate, a key
shared by two firms, bursts, cancellations rebooked earlier, events committed late and out
of `seq` order, a batch rolled back), judged every 5 to 60 minutes of event time. At each step
the kept window equals the full read, and the alerts the rules raise for the first time are
the same when they judge only the changed firms; the booked manifests the rules are handed
answer every plate's question as all of them do."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lanes.alerts import Alert, Observations, evaluate
from lanes.alerts.passes import Declarations
from lanes.model import CustomsStatus, Direction, Manifest
from services.alerts.kept import KeptBookings
from services.alerts.observations import BOOKING_LOOKBACK, loaded_changes, manifest_versions
from services.bootstrap import prepare_database
from services.db.booking_tables import BookingEventRow
from services.db.engine import create_engine, session_factory, transactions
from services.db.manifests import upsert_manifests
from services.gates.loader import default_gates, get_gate
from services.runtime.settings import DatabaseSettings
from tests.conftest import POSTGRES_URL, _create_schema, _drop_schema

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(300)]

GATES = default_gates()
GATE = get_gate("huu-nghi", GATES)
T0 = datetime(2026, 11, 13, 0, 0, tzinfo=UTC)
DAYS = 10


@pytest_asyncio.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    schema = f"bf_test_{uuid.uuid4().hex[:12]}"
    await _create_schema(schema)
    eng = create_engine(DatabaseSettings(url=POSTGRES_URL, schema_name=schema))
    try:
        await prepare_database(eng, GATES)
        yield eng
    finally:
        await eng.dispose()
        await _drop_schema(schema)


def _event(n: int, kind: str, at: datetime, **p: Any) -> dict[str, Any]:
    return {
        "event_id": f"{n:032x}",
        "booking_id": f"bk-{p['manifest_id']}-{n}",
        "type": f"booking.{kind}",
        "payload": {"gate_id": GATE.gate_id, **p},
        "occurred_at": at,
        "published_at": None,
    }


def generated_days(rng: random.Random) -> list[dict[str, Any]]:
    """Booking events of `DAYS` days, in the order they are committed (not quite that of
    `occurred_at`: some are written up to 3 hours late); some for another gate."""
    events: list[dict[str, Any]] = []
    rates = {f"f{i}": (i % 12) / 20 for i in range(24)}  # no-show rate 0 to 0.55
    for day in range(DAYS):
        for firm, rate in rates.items():
            for k in range(rng.randint(3, 6)):
                at = T0 + timedelta(days=day, minutes=rng.randint(0, 1439))
                slot = (at + timedelta(hours=rng.randint(1, 30))).replace(minute=0, second=0)
                p = {
                    "firm_id": firm,
                    "manifest_id": f"m-{firm}-{day}-{k}",
                    "slot_start": slot.isoformat(),
                }
                if firm in ("f10", "f23"):
                    p["key_id"] = "shared-key"  # one API key for two firms
                n = len(events)
                events.append(_event(n, "created", at, **p))
                kind = "no_show" if rng.random() < rate else rng.choice(["used", "lost_late"])
                settled = at + timedelta(hours=rng.randint(1, 20))
                events.append(_event(n + 1, kind, settled, **p))
                if rng.random() < 0.05:  # cancelled and booked into an earlier slot
                    again = at + timedelta(minutes=rng.randint(1, 9))
                    earlier = (slot - timedelta(hours=1)).isoformat()
                    events.append(_event(n + 2, "cancelled", again, **p))
                    events.append(
                        _event(
                            n + 3,
                            "created",
                            again + timedelta(minutes=1),
                            **(p | {"slot_start": earlier}),
                        )
                    )
        burst_at = T0 + timedelta(days=day, hours=rng.randint(1, 22))
        for b in range(22 if day % 3 == 1 else 5):
            n = len(events)
            p = {
                "firm_id": f"f{day % 12}",
                "manifest_id": f"m-burst-{day}-{b}",
                "slot_start": (burst_at + timedelta(hours=3)).isoformat(),
                "key_id": f"burst-{day}",
            }
            events.append(_event(n, "created", burst_at + timedelta(seconds=2 * b), **p))
        other = _event(len(events), "created", burst_at, firm_id="f1", manifest_id="m-x")
        other["payload"]["gate_id"] = "elsewhere"
        other["payload"]["slot_start"] = burst_at.isoformat()
        events.append(other)
    for e in events:
        late = timedelta(minutes=rng.randint(1, 180) if rng.random() < 0.1 else 0)
        e["written_at"] = e["occurred_at"] + late
    return sorted(events, key=lambda e: (e["written_at"], e["event_id"]))


def _manifest(manifest_id: str, firm_id: str, tractor: str) -> Manifest:
    return Manifest(
        manifest_id=manifest_id,
        firm_id=firm_id,
        direction=Direction.EXPORT,
        tractor_plate=tractor,
        trailer_plate=None,
        containers=(),
        cargo_description="fruit",
        hs_codes=(),
        gross_weight_kg=20_000.0,
        perishable=False,
        hazmat_class=None,
        customs_status=CustomsStatus.CLEARED,
        window_start=T0,
        window_end=T0 + timedelta(days=DAYS),
    )


async def _write(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    rows = [{k: v for k, v in e.items() if k != "written_at"} for e in events]
    if rows:
        await session.execute(insert(BookingEventRow), rows)


def _new(alerts: tuple[Alert, ...], stored: set[str]) -> list[Alert]:
    return [a for a in alerts if a.alert_id not in stored]


async def test_the_kept_look_back_gives_what_the_full_read_gives(engine: AsyncEngine) -> None:
    rng = random.Random(26)
    pending = generated_days(rng)
    sessions = session_factory(engine)
    kept = KeptBookings()
    unit = transactions(sessions, lambda s: s, on_rollback=kept.forget)
    stored: set[str] = set()
    rules_fired: set[str] = set()
    judged_total = window_total = steps = 0
    now = T0
    while now < T0 + timedelta(days=DAYS + 1):
        now += timedelta(minutes=rng.randint(5, 60))
        steps += 1
        due = [e for e in pending if e["written_at"] <= now]
        pending = pending[len(due) :]
        held = [e for e in due if rng.random() < 0.1]
        batch = [e for e in due if e not in held]
        since = now - BOOKING_LOOKBACK
        async with sessions() as late, late.begin():
            # a booking transaction that takes its numbers first and commits after the
            # batches below have seen higher ones
            await _write(late, held)
            async with unit() as session:
                await _write(session, batch)
            if steps % 9 == 0:  # a batch that reads, then rolls back
                with pytest.raises(RuntimeError):
                    async with unit() as session:
                        await _write(session, pending[:3])
                        await kept.changes(session, GATE.gate_id, since=since, now=now)
                        raise RuntimeError("the batch failed")
            async with unit() as session:
                kept_window, judged, _ = await kept.changes(
                    session, GATE.gate_id, since=since, now=now
                )
                full = await loaded_changes(session, GATE.gate_id, since=since)
        assert kept_window == full  # without the late transaction's: not committed then
        everything = _new(evaluate(Observations(bookings=full), now=now), stored)
        only_changed = _new(evaluate(Observations(bookings=judged), now=now), stored)
        assert only_changed == everything, now
        stored |= {a.alert_id for a in everything}
        rules_fired |= {a.rule for a in everything}
        judged_total += len(judged)
        window_total += len(full)
    assert rules_fired == {"no_show_rate", "rebook_jump", "booking_burst"}
    assert judged_total < window_total / 2  # it judges the changed firms, not every firm
    async with unit() as session:  # the held events of the last step are seen now
        kept_window, _, _ = await kept.changes(session, GATE.gate_id, since=since, now=now)
        assert kept_window == await loaded_changes(session, GATE.gate_id, since=since)


@pytest.mark.parametrize("shared_tail", [False, True], ids=["own-tail", "shared-tail"])
async def test_the_booked_manifests_kept_answer_as_all_of_them(
    engine: AsyncEngine, shared_tail: bool
) -> None:
    """Of the booked manifests, only those some version of which names a plate of the
    window are handed to the rules: `Declarations.as_of` gives the same for every plate,
    including a tractor plate amended away (an older version named it) and a manifest
    amended after the gate was loaded; whether the look-back reads the versions since the
    last batch itself or takes those the batch read for the alert step's manifests
    (`KeptVersions.tail`, as `KeptBookings.observations` does)."""
    sessions = session_factory(engine)
    kept = KeptBookings()
    firm, at = "f1", T0 + timedelta(hours=5)
    manifests = [_manifest(f"m-{i}", firm, f"29C{i:05d}") for i in range(40)]
    async with sessions() as session, session.begin():
        first = at - timedelta(hours=2)  # on the events' clock too: what the rules read
        await upsert_manifests(session=session, manifests=manifests, now=first, clock_at=first)
        amended = [
            _manifest("m-3", firm, "15H99999"),  # amended away from 29C00003
            _manifest("m-7", firm, "29C00008"),  # now names another booked one's plate
        ]
        later = at - timedelta(hours=1)
        await upsert_manifests(session=session, manifests=amended, now=later, clock_at=later)
        rows = [
            _event(i, "created", at, firm_id=firm, manifest_id=m.manifest_id,
                   slot_start=at.isoformat())
            for i, m in enumerate(manifests[:30])
        ]  # fmt: skip
        await _write(session, rows)
    plates = {"29C00003", "29C00008", "29C00010", "29C00035", "15H99999", "51A12345"}

    async def compare() -> None:
        async with sessions() as session, session.begin():
            tail = await kept.versions.tail(session) if shared_tail else None
            _, _, state = await kept.changes(
                session,
                GATE.gate_id,
                since=at - BOOKING_LOOKBACK,
                now=at + timedelta(hours=1),
                versions=tail,
            )
            booked = {m.manifest_id for m in manifests[:30]}
            named = state.booked_naming(plates)
            assert named < booked
            some = Declarations(await manifest_versions(session, plates, named))
            every = Declarations(await manifest_versions(session, plates, booked))
        for plate in plates:
            for t in [at + timedelta(minutes=m) for m in (-180, -90, 0, 180)]:
                assert some.as_of(plate, t) == every.as_of(plate, t), plate
        assert every.as_of("29C00003", at - timedelta(minutes=90)) is not None
        assert every.as_of("29C00003", at) is None

    await compare()
    async with sessions() as session, session.begin():  # amended after the gate was loaded
        later = [_manifest("m-12", firm, "51A12345"), _manifest("m-35", firm, "29C00010")]
        after = at + timedelta(hours=2)
        await upsert_manifests(session=session, manifests=later, now=after, clock_at=after)
    await compare()
    assert kept.kept(GATE.gate_id) is not None
    assert "m-12" in kept.kept(GATE.gate_id).booked_naming({"51A12345"})  # type: ignore[union-attr]
