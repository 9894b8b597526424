"""Replay of a recorded run reproduces the live decisions exactly, twice byte for byte."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lanes.policy import OrchestratedPolicy
from services.db.engine import create_engine, session_factory
from services.gates.loader import default_gates
from services.replay.compare import exact_differences, ordered
from services.replay.inputs import ReplayInputs, decision_line, from_archive, from_kafka
from services.replay.sandbox import run_sandbox
from services.runtime.settings import DatabaseSettings, Settings
from streams.clients import client_kwargs
from tests.integration.replay_recording import START, record_run

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]


async def test_replay_reproduces_the_recorded_decisions(
    tmp_path: Path, database_settings: DatabaseSettings
) -> None:
    recording = await record_run(tmp_path, database_settings)
    engine = create_engine(database_settings)
    try:
        sessions = session_factory(engine)
        inputs = await from_archive(sessions, start=recording.start, end=recording.end)
        times = sorted(datetime.fromisoformat(d["decided_at"]) for d in inputs.recorded)
        mid = times[len(times) // 2]
        warmed = await from_archive(
            sessions, start=mid, end=recording.end, warm_from=recording.start
        )
    finally:
        await engine.dispose()
    assert inputs.batches_recorded
    assert sum(b.worker == "lane-events" for b in inputs.batches) >= 1
    assert sum(b.worker == "decider" for b in inputs.batches) > 3  # many small batches
    assert inputs.events >= recording.reads
    assert len(inputs.recorded) == recording.published > 40
    assert any(d["revision"] > 0 for d in inputs.recorded), "the closure re-planned nobody"

    runs = []
    for _ in range(2):
        result = await run_sandbox(
            inputs, gates=default_gates(), policy=OrchestratedPolicy(), workdir=tmp_path
        )
        assert exact_differences(inputs.recorded, result.decisions) == []
        runs.append("\n".join(decision_line(d) for d in ordered(result.decisions)))
    assert runs[0] == runs[1]
    assert sum(d["outcome"] == "assigned" for d in inputs.recorded) > 20

    # a range from the middle of the recording, after a warm-up from its start: the same
    # decisions as live for the range's own
    assert 0 < len(warmed.recorded) < len(inputs.recorded)
    result = await run_sandbox(
        warmed, gates=default_gates(), policy=OrchestratedPolicy(), workdir=tmp_path
    )
    in_range = [d for d in result.decisions if datetime.fromisoformat(d["decided_at"]) >= mid]
    assert exact_differences(warmed.recorded, in_range) == []


async def test_replay_from_kafka_reads_the_same_inputs(
    tmp_path: Path, database_settings: DatabaseSettings
) -> None:
    """`--source kafka`: the topics themselves (while the broker holds them) give the same
    inputs as the archive, hence the same decisions."""
    seen: dict[str, ReplayInputs] = {}

    async def read_both(settings: Settings) -> None:
        engine = create_engine(database_settings)
        try:
            sessions = session_factory(engine)
            start, end = START - timedelta(hours=1), START + timedelta(days=1)
            seen["archive"] = await from_archive(sessions, start=start, end=end)
            assert settings.kafka.bootstrap is not None
            kwargs = client_kwargs(settings.kafka, settings.kafka.bootstrap)
            seen["kafka"] = await from_kafka(sessions, kwargs, start=start, end=end)
        finally:
            await engine.dispose()

    await record_run(tmp_path, database_settings, trucks=60, while_up=read_both)
    archive, kafka = seen["archive"], seen["kafka"]
    assert kafka.batches_recorded and len(kafka.batches) == len(archive.batches) > 1
    for a, k in zip(archive.batches, kafka.batches, strict=True):
        assert [(r.topic, r.offset, r.value) for r in a.records] == [
            (r.topic, r.offset, r.value) for r in k.records
        ]
    assert sorted(d["decision_id"] for d in kafka.recorded) == sorted(
        d["decision_id"] for d in archive.recorded
    )
    result = await run_sandbox(
        kafka, gates=default_gates(), policy=OrchestratedPolicy(), workdir=tmp_path
    )
    assert exact_differences(kafka.recorded, result.decisions) == []
