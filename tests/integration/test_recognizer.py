"""Camera frames on the real broker become plate reads, then lane decisions (issue 8): the
recognizer worker with the committed ONNX models, the decider and the database (SQLite and
PostgreSQL). Undecodable frames go to the dead-letter topic with the reason. The network
beyond this machine is blocked throughout (the fixture of the unit tests)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from plate_recognition.scenes import render_scene
from services.bootstrap import build_recognizer
from services.runtime.settings import DatabaseSettings
from streams.frames import CameraFrameV1, frame_message
from streams.topics import CAMERA_FRAMES, LANE_DECISIONS, PLATE_READS, dead_letter_topic
from tests.integration.harness import (
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    running_system,
    seed,
)
from tests.unit.test_recognition import no_network

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.usefixtures("no_network"),
]
__all__ = ["no_network"]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# Two Vietnamese trucks (clean frames the committed models read exactly; held-out seeds).
INLINE_SEED, REF_SEED = 910_002, 910_005


def frame(frame_id: str, at: datetime, **image: str) -> CameraFrameV1:
    return CameraFrameV1.model_validate(
        {"frame_id": frame_id, "camera_id": "hn-exp-gate-1", "captured_at": at, **image}
    )


async def test_frames_become_plate_reads_and_lane_decisions(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    inline = render_scene(INLINE_SEED, cn_share=0.0, clean=True)
    by_ref = render_scene(REF_SEED, cn_share=0.0, clean=True)
    (tmp_path / "frames" / "gate-1").mkdir(parents=True)
    (tmp_path / "frames" / "gate-1" / "b.jpg").write_bytes(by_ref.jpeg)
    frames = [
        frame("f-inline", T0, jpeg_b64=base64.b64encode(inline.jpeg).decode()),
        frame("f-broken", T0, jpeg_b64=base64.b64encode(b"\xff\xd8 truncated").decode()),
        frame("f-ref", T0 + timedelta(minutes=2), image_ref="gate-1/b.jpg"),
    ]
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(
                system.infra,
                manifest("MF-A", inline.plate.text),
                manifest("MF-B", by_ref.plate.text),
                now=T0,
            )
            worker, runtime = build_recognizer(system.infra)
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.run(stop))
            try:
                await asyncio.wait_for(runtime.ready.wait(), timeout=20)
                producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
                await producer.start()
                try:
                    for item in frames:
                        key, value = frame_message(item)
                        await producer.send_and_wait(CAMERA_FRAMES.name, value=value, key=key)
                finally:
                    await producer.stop()
                reads = await collect(broker.bootstrap, PLATE_READS.name, expect=2)
                decisions = await collect(broker.bootstrap, LANE_DECISIONS.name, expect=2)
                dead = await collect(
                    broker.bootstrap, dead_letter_topic(CAMERA_FRAMES.name), expect=1
                )
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=20)

    payloads = {json.loads(r.value)["data"]["event_id"]: json.loads(r.value) for r in reads}
    assert set(payloads) == {"f-inline/plate", "f-ref/plate"}
    first = payloads["f-inline/plate"]
    assert first["type"] == "plate_read" and first["producer"] == "recognizer"
    data = first["data"]
    assert data["plate_text"] == inline.plate.text
    assert len(data["char_confidences"]) == len(data["plate_text"])
    assert data["camera_id"] == "hn-exp-gate-1"
    assert payloads["f-ref/plate"]["data"]["image_ref"] == "gate-1/b.jpg"
    assert all(r.key == b"hn-exp-gate-1" for r in reads)

    by_manifest = {d["manifest_id"]: d for d in decision_payloads(decisions)}
    assert set(by_manifest) == {"MF-A", "MF-B"}
    assert by_manifest["MF-A"]["outcome"] == "assigned"
    assert by_manifest["MF-A"]["read_event_ids"] == ["f-inline/plate"]
    assert by_manifest["MF-B"]["read_event_ids"] == ["f-ref/plate"]

    assert len(dead) == 1
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert "f-broken" in headers["dlq.error"] and "decode" in headers["dlq.error"]
    assert headers["dlq.source.topic"] == CAMERA_FRAMES.name
    assert runtime.stats.dead_lettered == 1
    assert worker.stats["read"] == 2
