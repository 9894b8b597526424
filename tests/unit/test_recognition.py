"""Plate recognition with the committed ONNX models on seeded synthetic frames rendered here
(issue 8). Every test in this module runs with the network blocked: a code path that tries
to download anything (a library's default model, say) fails the test."""

from __future__ import annotations

import base64
import json
import logging
import socket
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from aiokafka import ConsumerRecord

from plate_recognition.errors import ModelsMissing, UnreadableImage
from plate_recognition.images import decode_image
from plate_recognition.pipeline import MODELS_DIR, PlateRecognizer
from plate_recognition.scenes import iou, render_scene
from services.cli.recognize import main_recognize
from services.workers.recognizer import RecognizerWorker, plate_read_event
from streams.errors import InvalidEvent
from streams.frames import CameraFrameV1, frame_message

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "", None}


class NetworkBlocked(AssertionError):
    """A code path tried to reach a host other than this machine."""


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # an AF_UNIX path
        return True
    return isinstance(address, tuple) and address[0] in LOCAL_HOSTS


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse every connection and name lookup that is not this machine's."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_local(address):
            raise NetworkBlocked(f"network access to {address!r} during a recognition test")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_local(address):
            raise NetworkBlocked(f"network access to {address!r} during a recognition test")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOCAL_HOSTS:
            raise NetworkBlocked(f"name lookup of {host!r} during a recognition test")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield


pytestmark = pytest.mark.usefixtures("no_network")


@pytest.fixture(scope="module")
def recognizer() -> PlateRecognizer:
    return PlateRecognizer()


def test_the_guard_refuses_a_download() -> None:
    with pytest.raises(NetworkBlocked):
        urllib.request.urlopen("https://github.com/ankandrew/fast-plate-ocr/releases", timeout=2)


def test_models_are_committed_small_and_described() -> None:
    for name in ("plate_detector.onnx", "plate_ocr.onnx"):
        size = (MODELS_DIR / name).stat().st_size
        assert 100_000 < size < 15_000_000, (name, size)
    card = (MODELS_DIR / "MODEL_CARD.md").read_text()
    assert "sha256" in card and "AGPL-3.0" in card
    assert json.loads((MODELS_DIR / "plate_ocr.metrics.json").read_text())["sha256"]


def test_missing_models_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelsMissing, match=r"plate_detector\.onnx"):
        PlateRecognizer(tmp_path)


CLEAN_SEEDS = range(900_000, 900_024)  # held out: training uses seeds >= 1,000,000
# What the committed models do on clean frames (24 of these 24 at the time of writing): a
# regression guard, not the target (bench/recognition.py measures that).
EXACT_CLEAN_MIN = 0.9


def test_clean_plates_are_found_and_read(recognizer: PlateRecognizer) -> None:
    found = exact = 0
    for seed in CLEAN_SEEDS:
        scene = render_scene(seed, clean=True)
        reads = recognizer.read(scene.image)
        if reads and iou(reads[0].bbox, scene.box) >= 0.5:
            found += 1
            exact += reads[0].text == scene.plate.text
            assert len(reads[0].char_confidences) == len(reads[0].text)
            assert reads[0].country in {"VN", "CN", "unknown"}
    assert found >= len(CLEAN_SEEDS) - 1, f"found {found}/{len(CLEAN_SEEDS)}"
    assert exact >= EXACT_CLEAN_MIN * len(CLEAN_SEEDS), f"exact {exact}/{len(CLEAN_SEEDS)}"


DEGRADED_SEEDS = range(900_300, 900_360)  # blur, glare, dirt, night, JPEG as in the bench


def test_degraded_frames_are_found_and_mostly_read(recognizer: PlateRecognizer) -> None:
    """Frames with the bench's degradations (60 of these 60 found and read at the time of
    writing): a guard against a detector whose boxes cut characters off (the OCR read 96.0% of a
    bench set from the first detector's boxes, 98.6% from the true boxes)."""
    found = exact = 0
    for seed in DEGRADED_SEEDS:
        scene = render_scene(seed, cn_share=0.5)
        reads = [r for r in recognizer.read(scene.image) if iou(r.bbox, scene.box) >= 0.5]
        found += bool(reads)
        exact += bool(reads) and reads[0].text == scene.plate.text
    assert found >= len(DEGRADED_SEEDS) - 1, f"found {found}/{len(DEGRADED_SEEDS)}"
    assert exact >= 0.9 * len(DEGRADED_SEEDS), f"exact {exact}/{len(DEGRADED_SEEDS)}"


def test_chinese_plates_are_read_as_chinese_plates(recognizer: PlateRecognizer) -> None:
    """Chinese plates (province character, letter, serial, trailer mark) are read as Chinese
    plates, and mostly exactly (20 of these 20 with the models of 2026-11-23, 19 before)."""
    chinese = shaped = exact = 0
    for seed in range(900_000, 900_048):
        scene = render_scene(seed, clean=True)
        if scene.plate.country != "CN":
            continue
        chinese += 1
        reads = recognizer.read(scene.image)
        shaped += bool(reads) and reads[0].country == "CN"
        exact += bool(reads) and reads[0].text == scene.plate.text
    assert chinese >= 15
    assert shaped >= 0.9 * chinese, f"{shaped}/{chinese}"
    assert exact >= 0.8 * chinese, f"{exact}/{chinese}"


def test_a_frame_without_a_plate_gives_no_read(recognizer: PlateRecognizer) -> None:
    empty = np.full((360, 480, 3), 90, dtype=np.uint8)
    assert recognizer.read(empty) == []


def test_a_burst_is_voted_into_one_read(recognizer: PlateRecognizer) -> None:
    scene = render_scene(900_100, clean=True)
    single = recognizer.read(scene.image)[0]
    (same,) = recognizer.read_burst([scene.image, scene.image])
    assert same.frames == 2
    assert same.text == single.text and same.char_confidences == single.char_confidences
    blurred = cv2.GaussianBlur(scene.image, (0, 0), 2.5)
    (voted,) = recognizer.read_burst([scene.image, blurred, np.full_like(scene.image, 90)])
    assert voted.frames == 2  # the empty frame has no plate to vote
    assert len(voted.char_confidences) == len(voted.text)
    assert recognizer.read_burst([np.full_like(scene.image, 90)] * 2) == []


def test_a_burst_that_caught_the_next_truck_reads_both_plates(
    recognizer: PlateRecognizer,
) -> None:
    """A camera's trigger burst is meant to hold one vehicle; one that also caught the truck
    behind gave a text voted out of both plates (the mean of their slot probabilities):
    each plate is now voted on its own frames. Two frames of each truck, each truck drawn in
    two scenes (seeds chosen with no trailer plate: a trailer's plate is its tractor's)."""
    first, second = render_scene(7_500_003, cn_share=0.5), render_scene(7_600_003, cn_share=0.5)
    assert (first.plate.text, second.plate.text) == ("云HYZ7RS", "浙N2UR6Y")
    frames = [
        first.image,
        render_scene(7_700_003, plate=first.plate).image,
        second.image,
        render_scene(7_800_003, plate=second.plate).image,
    ]
    reads = recognizer.read_burst(frames)
    assert sorted(r.text for r in reads) == sorted([first.plate.text, second.plate.text])
    assert [r.frames for r in reads] == [2, 2]


def test_training_crops_are_cut_where_the_detector_finds_the_plate() -> None:
    """`make_crops(detector=...)`: a frame's first crop is the detector's box for its plate
    (what the OCR will see at run time), the others stay jittered boxes; the same with two
    worker processes as with one."""
    from plate_recognition.detector import YoloOnnxDetector  # noqa: PLC0415
    from plate_recognition.ocr_data import crop_for_ocr, make_crops  # noqa: PLC0415

    seeds = range(900_200, 900_204)
    detector = MODELS_DIR / "plate_detector.onnx"
    plain, _, _ = make_crops(seeds, 2)
    cut, labels, texts = make_crops(seeds, 2, detector=detector)
    assert np.array_equal(cut, make_crops(seeds, 2, workers=2, detector=detector)[0])
    assert labels.shape == (8, 10) and texts[::2] == [render_scene(s).plate.text for s in seeds]
    find = YoloOnnxDetector(detector)
    for n, seed in enumerate(seeds):
        scene = render_scene(seed)
        box = next(
            d.bounding_box for d in find.predict(scene.image) if iou(_xyxy(d), scene.box) >= 0.5
        )
        expected = crop_for_ocr(scene.image, (box.x1, box.y1, box.x2, box.y2))
        assert np.array_equal(cut[2 * n], expected)
        assert np.array_equal(cut[2 * n + 1], plain[2 * n + 1])


def _xyxy(detection: Any) -> tuple[float, float, float, float]:
    b = detection.bounding_box
    return (b.x1, b.y1, b.x2, b.y2)


def test_undecodable_bytes_are_refused() -> None:
    with pytest.raises(UnreadableImage, match="do not decode"):
        decode_image(b"\xff\xd8 this is not really a JPEG")
    with pytest.raises(UnreadableImage, match="empty"):
        decode_image(b"")


def test_recognize_command_prints_no_library_info_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every `borderflow recognize` printed fast_plate_ocr's INFO line "Using custom providers:
    ['CPUExecutionProvider']" on stderr, where a refusal is documented as one line (found
    2026-12-06 as a camera vendor reading stderr for the refusals)."""
    good = tmp_path / "cam.jpg"
    good.write_bytes(render_scene(900_003, clean=True).jpeg)
    with caplog.at_level(logging.INFO):
        assert main_recognize([str(good)]) == 0
    assert [r.getMessage() for r in caplog.records if r.name.startswith("fast_plate_ocr")] == []
    assert json.loads(capsys.readouterr().out)["image"] == str(good)


def test_a_vote_names_only_the_images_it_voted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`recognize --vote` listed a refused image among the "images" of the voted read (found
    2026-12-06 as a camera vendor: an empty file and two good ones printed three "images" and
    "frames": 2)."""
    good, empty = tmp_path / "cam.jpg", tmp_path / "empty.jpg"
    good.write_bytes(render_scene(900_003, clean=True).jpeg)
    empty.write_bytes(b"")
    assert main_recognize([str(empty), str(good), str(good)], vote=True) == 1
    out, err = capsys.readouterr()
    voted = json.loads(out)
    assert voted["images"] == [str(good), str(good)] and voted["plate"]["frames"] == 2
    assert "empty.jpg: empty image (0 bytes)" in err


def test_recognize_command_prints_one_json_line_per_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scene = render_scene(900_003, clean=True)
    good, bad = tmp_path / "cam.jpg", tmp_path / "broken.jpg"
    good.write_bytes(scene.jpeg)
    bad.write_bytes(b"nope")
    assert main_recognize([str(good), str(bad)]) == 1
    out, err = capsys.readouterr()
    line = json.loads(out.strip())
    assert line["image"] == str(good)
    assert line["plates"] and len(line["plates"][0]["char_confidences"]) == len(
        line["plates"][0]["plate"]
    )
    assert "broken.jpg" in err
    assert main_recognize([str(good), str(good)], vote=True) == 0
    voted = json.loads(capsys.readouterr().out.strip())
    assert voted["plate"]["frames"] == 2 and voted["plates"] == [voted["plate"]]


def _record(value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        topic="borderflow.camera-frames",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"hn-exp-gate-1",
        value=value,
        checksum=None,
        serialized_key_size=13,
        serialized_value_size=len(value),
        headers=(),
    )


def test_the_worker_decodes_frames_and_refuses_undecodable_images(
    recognizer: PlateRecognizer, tmp_path: Path
) -> None:
    worker = RecognizerWorker(recognizer=recognizer, producer=None, frames_dir=tmp_path)  # type: ignore[arg-type]
    scene = render_scene(900_007, clean=True)
    good = CameraFrameV1(
        frame_id="f-7",
        camera_id="hn-exp-gate-1",
        captured_at=T0,
        jpeg_b64=base64.b64encode(scene.jpeg).decode(),
        burst_jpeg_b64=[base64.b64encode(scene.jpeg).decode()],
    )
    decoded = worker.decode(_record(frame_message(good)[1]))
    assert len(decoded.images) == 2
    (reading,) = worker.recognise(decoded)
    assert reading.frames == 2
    event = plate_read_event(good, reading)
    assert event.event_id == "f-7/plate" and event.captured_at == T0
    assert len(event.char_confidences or []) == len(event.plate_text)
    broken = good.model_copy(update={"burst_jpeg_b64": [base64.b64encode(b"\xff\xd8xx").decode()]})
    with pytest.raises(InvalidEvent, match=r"frame f-7: burst image 0: .*do not decode"):
        worker.decode(_record(frame_message(broken)[1]))


CROP_SEEDS = range(900_500, 900_530)


def test_an_image_cut_to_its_plate_is_read_whole(recognizer: PlateRecognizer) -> None:
    """Found trying the product as a stranger: a photograph cut to its plate (as plate
    datasets and other systems' crops are: the 300 real crops of `../shared/real_plates`,
    94 x 24) went to the detector, which learned plates in scenes; it found none in 162 of
    the 300 and a box cutting into the characters in the rest, and `borderflow recognize`
    read 0 of 300 exactly (the OCR alone reads 0.73 of them). Here: the plates of rendered
    scenes, cut out at their box (one-line and two-line, both countries)."""
    exact = 0
    for seed in CROP_SEEDS:
        scene = render_scene(seed, cn_share=0.5)
        x1, y1, x2, y2 = (round(v) for v in scene.box)
        crop = np.ascontiguousarray(scene.image[y1:y2, x1:x2])
        reads = recognizer.read(crop)
        assert len(reads) == 1, seed  # one plate: the image
        # the image, or the box the detector finds in it when that reads more confidently
        assert iou(reads[0].bbox, (0, 0, x2 - x1, y2 - y1)) >= 0.7, (seed, reads[0].bbox)
        exact += reads[0].text == scene.plate.text
    assert exact >= 0.8 * len(CROP_SEEDS), f"exact {exact}/{len(CROP_SEEDS)}"


def test_a_scene_is_not_taken_for_a_plate_crop() -> None:
    from plate_recognition.pipeline import is_plate_crop  # noqa: PLC0415

    assert is_plate_crop(94, 24, [])  # a plate, nothing around it for the detector
    assert is_plate_crop(94, 24, [(1, 5, 40, 22)])  # a box cutting into it (29% of it)
    assert is_plate_crop(220, 160, [])  # a two-line plate
    assert not is_plate_crop(480, 360, [(200, 250, 290, 280)])  # a scene: the plate is 1.6%
    assert not is_plate_crop(480, 360, [])  # a small scene with no plate: nothing to read
    assert is_plate_crop(480, 360, [(20, 30, 460, 330)])  # a close two-line plate, 76%
    assert is_plate_crop(600, 150, [])  # a one-line plate photographed close
    assert is_plate_crop(1880, 480, [])  # the same from a phone's camera
    assert not is_plate_crop(1280, 720, [])  # a 720p camera frame
    assert not is_plate_crop(1920, 1080, [])  # a camera frame, nothing found: nothing
    assert not is_plate_crop(24, 94, [])  # taller than wide: not a plate
    assert not is_plate_crop(900, 100, [])  # 9 : 1, a strip, not a plate
