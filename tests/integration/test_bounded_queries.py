"""Issue 26 item 5: the cost of a batch does not grow with history. Every statement a
decide batch, the lane-event worker and the control room's audit look-ups send to
PostgreSQL is explained (EXPLAIN ANALYZE), with days of history already in the tables but
older than any look-back: no statement may touch more than a handful of rows of a history
table. A sequential scan, or an index walked past the batch's time span or key, touches the
whole history and fails.

The planner is told not to choose a sequential scan where an index can serve
(`enable_seqscan = off`): the tables here are far smaller than 30 days at a busy gate, where
the index is cheaper. So the test checks that a bounded index exists for each statement;
docs/performance.md gives the plans on 30 days of history, with the planner's own choice."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from lanes.matching import OcrMatcher
from lanes.model import CustomsStatus, Direction, Manifest
from lanes.policy import OrchestratedPolicy
from services.adapters.sql_gate import sql_control_stores, sql_gate_stores
from services.bootstrap import make_decider, prepare_database
from services.db.audit import made_by
from services.db.control_tables import AuditRow
from services.db.engine import create_engine, session_factory
from services.db.manifests import upsert_manifests
from services.db.tables import PlateTrackRow
from services.gates.loader import default_gates, get_gate
from services.replay.sandbox import RecordingProducer
from services.runtime.settings import DatabaseSettings
from services.simulation.history import TABLES, fill_history
from services.workers.decider import Decider
from streams.runtime import Inbound
from tests.conftest import POSTGRES_URL, _create_schema, _drop_schema

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(300)]

GATES = default_gates()
GATE = get_gate("huu-nghi", GATES)
CAMERA = next(c for c in GATE.cameras if c.direction is Direction.EXPORT and c.role == "gate_in")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# history: 4 days, ending 8 days before the batch (past the booking look-back, 7 days)
HISTORY_END = T0 - timedelta(days=8)
HISTORY_TABLES = frozenset(TABLES)
MAX_ROWS_TOUCHED = 50  # per scan node; the history holds thousands of rows per table


@pytest_asyncio.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    schema = f"bf_test_{uuid.uuid4().hex[:12]}"
    await _create_schema(schema)
    eng = create_engine(DatabaseSettings(url=POSTGRES_URL, schema_name=schema))
    try:
        await prepare_database(eng, GATES)
        await fill_history(
            eng, GATE, days=4, before=HISTORY_END, trucks_per_day=600, alert_every=20
        )
        yield eng
    finally:
        await eng.dispose()
        await _drop_schema(schema)


@contextmanager
def captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """The statements sent on `engine` inside the block, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)


def _scans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


def rows_touched(node: dict[str, Any]) -> int:
    """The rows a scan node read: those it returned and those it threw away."""
    loops = int(node.get("Actual Loops", 1))
    kept = float(node.get("Actual Rows", 0))
    removed = float(node.get("Rows Removed by Filter", 0))
    removed += float(node.get("Rows Removed by Index Recheck", 0))
    return round((kept + removed) * loops)


async def explain(conn: AsyncConnection, statement: str, parameters: Any) -> dict[str, Any]:
    """EXPLAIN ANALYZE of one statement (in the caller's transaction, rolled back)."""
    result = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
    found = result.scalar_one()
    return cast(dict[str, Any], (json.loads(found) if isinstance(found, str) else found)[0])


async def leading_columns(conn: AsyncConnection) -> dict[str, str]:
    """The first column of each index of a history table, by index name; a partial index
    (`ux_bookings_active_manifest`: the active bookings, which do not pile up) is left out."""
    rows = await conn.execute(
        text(
            "SELECT ic.relname, a.attname FROM pg_index i "
            "JOIN pg_class ic ON ic.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] "
            "WHERE t.relnamespace = current_schema()::regnamespace "
            "AND t.relname = ANY(:tables) AND i.indpred IS NULL"
        ),
        {"tables": sorted(HISTORY_TABLES)},
    )
    return {str(name): str(column) for name, column in rows.all()}


def unbounded(node: dict[str, Any], leading: dict[str, str]) -> str | None:
    """Why a scan node reads history: a sequential scan of a history table, an index of one
    walked without a condition on its first column (the whole index), or more than
    `MAX_ROWS_TOUCHED` rows read; None when bounded."""
    table, index = node.get("Relation Name"), node.get("Index Name")
    if index in leading:
        cond = str(node.get("Index Cond", ""))
        if not re.search(rf"\b{leading[index]}\b", cond):
            return f"{node['Node Type']} using {index} without a bound on {leading[index]}"
    if table in HISTORY_TABLES:
        if node["Node Type"] == "Seq Scan":
            return f"Seq Scan on {table}"
        if rows_touched(node) > MAX_ROWS_TOUCHED:
            return f"{node['Node Type']} on {table} ({index}) read {rows_touched(node)} rows"
    return None


async def overreaching(
    engine: AsyncEngine, sent: list[tuple[str, Any]], *, seqscan: bool = False
) -> list[str]:
    """Each statement of `sent` whose plan reads history (`unbounded`), with the reason (an
    insert of values is not explained)."""
    out = []
    async with engine.connect() as conn:
        leading = await leading_columns(conn)
        await conn.rollback()
        for statement, parameters in sent:
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb not in {"SELECT", "UPDATE", "DELETE"} or isinstance(parameters, list):
                continue
            trans = await conn.begin()
            try:
                if not seqscan:
                    await conn.execute(text("SET LOCAL enable_seqscan = off"))
                plan = await explain(conn, statement, parameters)
            finally:
                await trans.rollback()
            for node in _scans(plan["Plan"]):
                why = unbounded(node, leading)
                if why is not None:
                    out.append(f"{why}: {_short(statement)}")
    return out


def _short(statement: str) -> str:
    """The statement without its column list."""
    flat = " ".join(statement.split())
    verb, _, rest = flat.partition(" FROM ")
    return (f"{verb.split()[0]} ... FROM {rest}" if rest else flat)[:240]


def _read(decider: Decider, event_id: str, plate: str, at: datetime) -> Inbound[Any]:
    body = {
        "event_id": event_id,
        "camera_id": CAMERA.camera_id,
        "captured_at": at.isoformat(),
        "plate_text": plate,
        "confidence": 0.93,
    }
    record = ConsumerRecord(
        "borderflow.plate-reads", 0, 0, 0, 0, None, json.dumps(body).encode(), None, 0, 0, ()
    )
    return Inbound("borderflow.plate-reads", 0, 0, None, decider.decode(record))


async def test_a_decide_batch_reads_no_history(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session:
        returning = await session.scalar(
            select(PlateTrackRow.plate).order_by(PlateTrackRow.plate).limit(1)
        )
    assert returning is not None
    plates = ["29H10001", "29H10002", returning]
    async with sessions() as session, session.begin():
        await upsert_manifests(
            session=session,
            manifests=[
                Manifest(f"MF-now-{i}", "firm-01", Direction.EXPORT, p, customs_status=c)
                for i, (p, c) in enumerate(zip(plates, [CustomsStatus.CLEARED] * 3, strict=True))
            ],
            now=T0 - timedelta(hours=1),
        )
    decider = make_decider(
        stores=sql_gate_stores(sessions),
        producer=cast(AIOKafkaProducer, RecordingProducer()),
        gates=GATES,
        matcher=OcrMatcher(),
        policy=OrchestratedPolicy(),
    )
    first = [_read(decider, f"r-{i}", p, T0 + timedelta(seconds=i)) for i, p in enumerate(plates)]
    await decider.handle(first)  # the first batch of the day: the gate's state is written
    with captured(engine) as sent:
        later = T0 + timedelta(minutes=1)
        await decider.handle(
            [
                _read(decider, f"s-{i}", p, later + timedelta(seconds=i))
                for i, p in enumerate(plates)
            ]
            + [_read(decider, "s-unknown", "51D99999", later)]
        )
    assert len(sent) > 10
    found = await overreaching(engine, sent)
    assert found == [], "\n".join(found)


async def test_the_worker_alert_and_control_room_lookups_read_no_history(
    engine: AsyncEngine,
) -> None:
    """What the lane-event worker and a holding alert ask besides a decide batch's
    statements: stored lane events, the decisions of the re-planned visits, and the latest
    decision about a plate or a manifest. And the audit entries the control room looks up,
    with days of controllers' actions in the log: the hold that made each held review
    item's decision (`made_by`, on every snapshot and review page) and a lane's or a
    carrier's change not applied yet (`pending_lane_change`, on every lane action)."""
    sessions = session_factory(engine)
    async with sessions() as session:
        plate, visit_id, manifest_id = (
            await session.execute(
                text(
                    "SELECT plate, visit_id, manifest_id FROM lane_decisions "
                    "WHERE manifest_id IS NOT NULL ORDER BY visit_id LIMIT 1"
                )
            )
        ).one()
        hold = await session.scalar(
            select(AuditRow).where(AuditRow.action == "hold").order_by(AuditRow.seq).limit(1)
        )
    assert hold is not None and GATE.fleet is not None
    held = {hold.target: hold.details["after"]["decision_id"], "v-missing": "d-missing"}
    lane, carrier = GATE.lanes[0].lane_id, GATE.fleet.carriers[0].carrier_id
    since = T0 - timedelta(seconds=60)
    with captured(engine) as sent:
        async with sql_control_stores(sessions)() as store:
            await store.lock_gates([GATE.gate_id])
            await store.new_lane_events([])
            await store.board(GATE)
            await store.decisions_for_visits([visit_id, "v-missing"])
            await store.latest_decision(GATE.gate_id, f"plate:{plate}")
            await store.latest_decision(GATE.gate_id, "plate:51D99999")
            await store.latest_decision(GATE.gate_id, f"manifest:{manifest_id}")
            found = await store.latest_decisions(GATE.gate_id, [manifest_id, "MF-none"])
            await store.open_holds(GATE.gate_id, [f"plate:{plate}", "manifest:MF-none"])
            await store.unpublished_decisions(100)
            await store.unpublished_alerts(100)
            await store.expire_bookings(gate_id=GATE.gate_id, now=T0, grace=timedelta(hours=1))
            await store.pending_lane_change(GATE.gate_id, lane, since=since)
            await store.pending_lane_change(
                GATE.gate_id, carrier, since=since, actions=("carrier_back", "carrier_out")
            )
        async with sessions() as session:
            made = await made_by(
                session=session, gate_id=GATE.gate_id, action="hold", decisions=held
            )
    assert len(sent) >= 13
    assert list(found) == [manifest_id]
    assert list(made) == [hold.target]
    reading = await overreaching(engine, sent)
    assert reading == [], "\n".join(reading)


async def test_the_check_sees_a_scan_of_history(engine: AsyncEngine) -> None:
    """The check itself: a query with no bound on time does touch the history."""
    with captured(engine) as sent:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM plate_reads WHERE plate_text LIKE '%9'"))
            await conn.execute(
                text(
                    "SELECT * FROM lane_decisions WHERE gate_id = :g AND reason = 'none' "
                    "ORDER BY decided_at DESC LIMIT 1"
                ),
                {"g": GATE.gate_id},
            )
    found = await overreaching(engine, sent)
    assert len(found) == 2, found
    assert found[0].startswith("Seq Scan on plate_reads")
    assert re.match(r".* on lane_decisions .* read \d+ rows", found[1]), found[1]
