"""The archiver keeps every record of every topic (dead letters and decisions included) with
its coordinates, key, headers and event time; a redelivered record once; export of a range
to JSONL and Parquet gives the records back byte for byte."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from services.archive.export import export_range
from services.archive.store import archive, records_in_range
from services.bootstrap import build_archiver
from services.db.archive_tables import ArchivedEventRow
from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS, PLATE_READS
from tests.integration.harness import (
    as_message,
    envelope,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


async def test_archiver_keeps_every_record_and_exports_it(
    tmp_path: Path, database_settings: DatabaseSettings
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            archiver, runtime = build_archiver(infra)
            task = asyncio.create_task(runtime.run(system.stop))
            await asyncio.wait_for(runtime.ready.wait(), timeout=20)
            await seed(infra, manifest("MF-1", "29H-123.45"), now=T0 - timedelta(hours=1))
            plain = read("r-1", "29H-123.45", T0)
            enveloped = envelope(read("r-2", "29H-999.99", T0 + timedelta(minutes=30)))
            await publish(
                broker.bootstrap,
                as_message(plain),
                ("hn-exp-gate-1", json.dumps(enveloped).encode()),
                ("hn-exp-gate-1", b"\xff not json"),
            )

            async def all_there() -> bool:
                return await _count(infra) >= 3 + 1 + 2  # reads, dead letter, decisions

            await wait_until(all_there, timeout=30)
            system.stop.set()
            await asyncio.wait_for(task, timeout=20)

        async with infra.sessions() as session:
            everything = await records_in_range(
                session=session, start=T0 - timedelta(days=3650), end=T0 + timedelta(days=3650)
            )
        by_topic: dict[str, list] = {}
        for record in everything:
            by_topic.setdefault(record.topic, []).append(record)
        reads = {r.event_id: r for r in by_topic[PLATE_READS.name]}
        assert reads["r-1"].event_time == T0 and reads["r-1"].key == b"hn-exp-gate-1"
        assert reads["r-1"].value == json.dumps(plain).encode()
        assert reads["r-2"].event_time == T0 + timedelta(minutes=30)
        junk = next(r for r in by_topic[PLATE_READS.name] if r.event_id is None)
        assert junk.value == b"\xff not json"  # archived as it came, with the broker's time
        (dead,) = by_topic[PLATE_READS.dlq.name]
        assert dead.value == b"\xff not json"
        headers = dict(dead.headers)
        assert headers["dlq.source.topic"] == PLATE_READS.name.encode()
        assert int(headers["dlq.source.offset"]) == junk.offset
        decisions = by_topic[LANE_DECISIONS.name]
        assert {d.payload()["read_event_ids"][0] for d in decisions} == {"r-1", "r-2"}
        assert all(d.event_id and d.event_id.startswith("d-") for d in decisions)
        assert archiver.stats.archived == len(everything)

        # a redelivered batch changes nothing
        async with infra.sessions() as session, session.begin():
            await archive(session=session, records=everything)
        assert await _count(infra) == len(everything)

        # export: the reads' hour, JSONL and Parquet, byte for byte
        start, end = T0, T0 + timedelta(hours=1)
        jsonl = tmp_path / "out" / "reads.jsonl"
        count, _ = await export_range(
            infra.sessions,
            start=start,
            end=end,
            out=jsonl,
            fmt="jsonl",
            topics=[PLATE_READS.name],
        )
        lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
        assert count == len(lines) == 2
        assert [x["event_id"] for x in lines] == ["r-1", "r-2"]
        assert lines[0]["value"] == json.dumps(plain)
        assert lines[1]["headers"] == [
            [k, base64.b64encode(v).decode()] for k, v in reads["r-2"].headers
        ]
        count, files = await export_range(
            infra.sessions,
            start=T0 - timedelta(days=3650),
            end=T0 + timedelta(days=3650),
            out=tmp_path / "parquet",
            fmt="parquet",
        )
        rows = [row for f in files for row in pq.read_table(f).to_pylist()]
        assert count == len(rows) == len(everything)
        assert {f.name for f in files} >= {"events-2026-11-23.parquet"}
        assert {(r["topic"], r["offset"], r["value"]) for r in rows} == {
            (r.topic, r.offset, r.value) for r in everything
        }


async def _count(infra: object) -> int:
    async with infra.sessions() as session:  # type: ignore[attr-defined]
        return int(await session.scalar(select(func.count()).select_from(ArchivedEventRow)) or 0)
