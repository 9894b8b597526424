"""A camera frame holding two plates (two trucks in view, a truck and its trailer) gives one
read per distinct plate, from the recognizer worker and from `borderflow recognize`; until
2026-12-06 both gave one read per frame, its most confident detection's. The frames are
rendered here (`plate_recognition.two_plate_frames`), the real models read them."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from plate_recognition.camera_frames import render_frame
from plate_recognition.pipeline import PlateRecognizer
from plate_recognition.reading import PlateReading, frame_plates
from plate_recognition.scenes import iou
from plate_recognition.two_plate_frames import TwoPlateFrame, render_two_plate_frame
from services.cli.recognize import main_recognize
from services.workers.recognizer import DecodedFrame, RecognizerWorker, read_event_id
from streams.codec import decode_plate_read
from streams.events import PlateReadV1
from streams.frames import CameraFrameV1
from streams.runtime import Inbound

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TWO_PLATES_SEED = 5_500_001  # 58D73258 and 74K34709, both read exactly
# a one-plate frame where the detector also sends a board of text to the OCR
ONE_PLATE_AND_A_BOARD_SEED = 5_100_083


@pytest.fixture(scope="module")
def recognizer() -> PlateRecognizer:
    return PlateRecognizer()


@pytest.fixture(scope="module")
def two_trucks() -> TwoPlateFrame:
    return render_two_plate_frame(TWO_PLATES_SEED)


class _Producer:
    """Records each send; every send is acknowledged at once."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, topic: str, **kwargs: Any) -> asyncio.Future[None]:
        self.sent.append({"topic": topic, **kwargs})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def _frame(jpeg: bytes, frame_id: str = "f-2") -> CameraFrameV1:
    return CameraFrameV1(
        frame_id=frame_id,
        camera_id="hn-exp-gate-1",
        captured_at=T0,
        jpeg_b64=base64.b64encode(jpeg).decode(),
    )


def _inbound(frame: CameraFrameV1, image: np.ndarray) -> Inbound[DecodedFrame]:
    return Inbound(
        topic="borderflow.camera-frames",
        partition=0,
        offset=0,
        key=frame.camera_id.encode(),
        event=DecodedFrame(frame=frame, images=(image,)),
    )


async def test_a_frame_with_two_trucks_publishes_a_read_of_each(
    recognizer: PlateRecognizer, two_trucks: TwoPlateFrame, tmp_path: Path
) -> None:
    rendered = two_trucks
    producer = _Producer()
    worker = RecognizerWorker(recognizer=recognizer, producer=producer, frames_dir=tmp_path)  # type: ignore[arg-type]
    frame = _frame(rendered.jpeg)
    await worker.handle([_inbound(frame, rendered.image)])
    reads = [decode_plate_read(sent["value"]) for sent in producer.sent]
    assert sorted(r.plate_text for r in reads) == sorted(p.text for p in rendered.plates)
    assert [r.event_id for r in reads] == ["f-2/plate", "f-2/plate-2"]
    assert {sent["key"] for sent in producer.sent} == {b"hn-exp-gate-1"}
    assert {r.captured_at for r in reads} == {T0}
    for read in reads:  # each its own box and confidence, on its own plate
        truth = next(
            b
            for p, b in zip(rendered.plates, rendered.boxes, strict=True)
            if p.text == read.plate_text
        )
        assert read.bbox is not None and iou(tuple(read.bbox), truth) >= 0.5
        assert 0 < read.confidence <= 1
    assert worker.stats["read"] == 2 and worker.stats["frames_with_several_plates"] == 1

    again = _Producer()  # the frame redelivered: the same ids, so the reads count once
    worker.producer = again  # type: ignore[assignment]
    await worker.handle([_inbound(frame, rendered.image)])
    assert [decode_plate_read(s["value"]).event_id for s in again.sent] == [
        r.event_id for r in reads
    ]


def test_recognize_prints_both_plates_and_no_board_of_text(
    recognizer: PlateRecognizer,
    two_trucks: TwoPlateFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The board of text the detector sends the OCR in the one-plate frame (read `桂MD4460`
    at confidence 0.002) was printed as a second plate; now only what reads as a plate."""
    monkeypatch.setattr("services.cli.recognize.PlateRecognizer", lambda: recognizer)
    two = tmp_path / "two.jpg"
    two.write_bytes(two_trucks.jpeg)
    one = tmp_path / "one.jpg"
    rendered = render_frame(ONE_PLATE_AND_A_BOARD_SEED)
    one.write_bytes(rendered.jpeg)
    assert main_recognize([str(two), str(one)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines[0]["plates"]) == 2
    assert [p["plate"] for p in lines[1]["plates"]] == [rendered.plate.text]


def _reading(text: str, confidence: float, x: float = 0.0) -> PlateReading:
    return PlateReading(
        text=text,
        confidence=confidence,
        char_confidences=(confidence,) * len(text),
        candidates=(),
        country="",
        bbox=(x, 0.0, x + 100.0, 30.0),
        detection_confidence=0.8,
        slot_probs=np.zeros((10, 69), np.float32),
    )


def test_the_first_read_is_kept_as_before_and_further_ones_must_read_as_plates() -> None:
    first = _reading("X1", 0.01)  # not a plate's format, barely read: kept, as before
    second = _reading("29H12345", 0.9, 200)
    assert frame_plates([first, second]) == [first, second]
    assert frame_plates([first, _reading("29H12345", 0.1, 200)]) == [first]  # too unsure
    assert frame_plates([second, _reading("CONTAINER1", 0.9, 400)]) == [second]  # no plate
    assert frame_plates([second, _reading("29H12345", 0.95, 400)]) == [second]  # the same plate
    assert frame_plates([_reading("", 0.5), second]) == [second]
    assert frame_plates([]) == []


def test_a_trailer_plate_in_a_frame_gives_no_second_read() -> None:
    """A tractor and its trailer in one frame are one truck: published apart, the trailer's
    plate opened a visit of its own that the matcher gave the same manifest (it weighs a
    manifest's trailer plate), so one truck had two decisions. Either way round, the frame
    gives its first read only, as before 2026-12-06."""
    tractor = _reading("29H12345", 0.9)
    for trailer in ("29R01234", "桂A1234挂"):
        assert frame_plates([tractor, _reading(trailer, 0.9, 200)]) == [tractor]
        first = _reading(trailer, 0.9)
        assert frame_plates([first, _reading("29H12345", 0.9, 200)]) == [first]


def test_a_long_frame_id_still_gives_valid_distinct_read_ids() -> None:
    """A frame id of 123 to 128 characters (CameraFrameV1 takes 128) made a read id over
    the event id's 128, so the read failed validation in the worker, the batch was retried
    and the frame dead-lettered: a valid frame, never read."""
    base = "cam-7/" + "x" * 120
    ids = {read_event_id(base + suffix, k) for suffix in ("a", "b") for k in (0, 1)}
    assert len(ids) == 4 and all(len(i) <= 128 for i in ids)
    for event_id in ids:
        PlateReadV1(
            event_id=event_id, camera_id="c", captured_at=T0, plate_text="29H12345", confidence=1
        )
    assert read_event_id("f-1") == "f-1/plate" and read_event_id("f-1", 2) == "f-1/plate-3"
