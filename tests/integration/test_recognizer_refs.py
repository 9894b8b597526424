"""Frames by reference on the real broker (the recognizer worker, the committed models):
a frame whose `image_ref` cannot be read, or leads out of the frames folder, is
dead-lettered with the reason, and the worker goes on to the next frame."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from plate_recognition.scenes import render_scene
from services.bootstrap import build_recognizer
from services.runtime.settings import DatabaseSettings
from streams.frames import CameraFrameV1, frame_message
from streams.topics import CAMERA_FRAMES, PLATE_READS, dead_letter_topic
from tests.integration.harness import collect, fresh_broker, make_settings, running_system
from tests.unit.test_recognition import no_network

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.usefixtures("no_network"),
]
__all__ = ["no_network"]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SEED = 910_005  # a clean Vietnamese frame the committed models read exactly
LONG_NAME = "gate-1/" + "x" * 300 + ".jpg"


async def test_unreadable_references_are_dead_lettered_and_the_next_frame_is_read(
    tmp_path: Path,
) -> None:
    """Before, the name too long for the file system raised OSError out of the worker's
    decode, which the consumer took for a lost broker: it reconnected and met the same
    frame again, for ever, and no frame behind it was read; the link out of the folder was
    followed and its file read as the frame."""
    scene = render_scene(SEED, cn_share=0.0, clean=True)
    folder, outside = tmp_path / "frames" / "gate-1", tmp_path / "outside"
    folder.mkdir(parents=True)
    outside.mkdir()
    (outside / "other.jpg").write_bytes(scene.jpeg)
    (folder / "out.jpg").symlink_to(outside / "other.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "cut.jpg").write_bytes(scene.jpeg[: len(scene.jpeg) // 2])
    (folder / "good.jpg").write_bytes(scene.jpeg)
    refs = {
        "f-long": LONG_NAME,
        "f-out": "gate-1/out.jpg",
        "f-empty": "gate-1/empty.jpg",
        "f-cut": "gate-1/cut.jpg",
        "f-good": "gate-1/good.jpg",
    }
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with running_system(settings) as system:
            worker, runtime = build_recognizer(system.infra)
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.run(stop))
            try:
                await asyncio.wait_for(runtime.ready.wait(), timeout=20)
                producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
                await producer.start()
                try:
                    for frame_id, ref in refs.items():
                        frame = CameraFrameV1(
                            frame_id=frame_id, camera_id="gate-1", captured_at=T0, image_ref=ref
                        )
                        key, value = frame_message(frame)
                        await producer.send_and_wait(CAMERA_FRAMES.name, value=value, key=key)
                finally:
                    await producer.stop()
                reads = await collect(broker.bootstrap, PLATE_READS.name, expect=1, timeout=60)
                dead = await collect(
                    broker.bootstrap, dead_letter_topic(CAMERA_FRAMES.name), expect=4, timeout=60
                )
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=20)

    reasons = {}
    for record in dead:
        error = {k: v.decode() for k, v in record.headers}["dlq.error"]
        reasons[error.split(":")[0]] = error
    assert reasons == {
        "frame f-long": f"frame f-long: image_ref {LONG_NAME!r}: cannot be looked up: "
        "File name too long",
        "frame f-out": "frame f-out: image_ref 'gate-1/out.jpg' is a link that leads outside "
        "the frames folder",
        "frame f-empty": "frame f-empty: image: empty image (0 bytes)",
        "frame f-cut": reasons["frame f-cut"],
    }
    assert "bytes of JPEG are cut short" in reasons["frame f-cut"]
    assert [r.key for r in reads] == [b"gate-1"]
    assert runtime.stats.reconnects == 0
    assert worker.stats["read"] == 1
