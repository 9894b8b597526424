"""A frame's `image_ref` (streams.frames, read by the recognizer worker): a file inside the
frames folder, and nothing else; whatever goes wrong reading it is the frame's reason to be
dead-lettered, never an exception out of the worker."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from aiokafka import ConsumerRecord
from PIL import Image

from services.workers.recognizer import RecognizerWorker
from streams import frames
from streams.errors import InvalidEvent
from streams.frames import CameraFrameV1, frame_images
from tests.unit.test_recognition import _record as frame_record

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((24, 94, 3), 90, dtype=np.uint8)).save(out, "JPEG")
    return out.getvalue()


def _noisy_jpeg() -> bytes:
    out = io.BytesIO()
    pixels = np.random.default_rng(5).integers(0, 255, (120, 200, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def _frame(image_ref: str) -> CameraFrameV1:
    return CameraFrameV1(frame_id="f-1", camera_id="gate-1", captured_at=T0, image_ref=image_ref)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """(frames folder, a folder beside it with a secret in it)."""
    root, outside = tmp_path / "frames", tmp_path / "outside"
    (root / "cams").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(_jpeg())
    (root / "cams" / "a.jpg").write_bytes(_jpeg())
    return root, outside


def test_a_link_in_the_frames_folder_to_a_file_outside_is_refused(
    folders: tuple[Path, Path],
) -> None:
    """It was followed: a frame naming `cams/passwd.jpg`, a link to any file the worker may
    read, had that file decoded (and, as here, read as the frame when it was an image)."""
    root, outside = folders
    (root / "cams" / "passwd.jpg").symlink_to(outside / "secret.jpg")
    with pytest.raises(InvalidEvent, match=r"is a link that leads outside the frames folder"):
        frame_images(_frame("cams/passwd.jpg"), root)


def test_a_linked_folder_leading_outside_is_refused(folders: tuple[Path, Path]) -> None:
    root, outside = folders
    (root / "elsewhere").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidEvent, match=r"leads outside the frames folder"):
        frame_images(_frame("elsewhere/secret.jpg"), root)


def test_links_that_stay_inside_are_followed(folders: tuple[Path, Path]) -> None:
    root, _ = folders
    (root / "latest.jpg").symlink_to(root / "cams" / "a.jpg")
    assert frame_images(_frame("latest.jpg"), root) == [_jpeg()]
    linked_root = root.parent / "frames-link"  # the frames folder itself a link (a mount)
    linked_root.symlink_to(root, target_is_directory=True)
    assert frame_images(_frame("cams/a.jpg"), linked_root) == [_jpeg()]


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("../outside/secret.jpg", r"must be a relative path inside the frames folder"),
        ("../../etc/passwd", r"must be a relative path inside the frames folder"),
        ("file:///etc/passwd", r"must be a relative path inside the frames folder"),
        ("cams", r"no such file in the frames folder"),  # a folder
        # the name too long for the file system: OSError escaped the worker's decode, which
        # the consumer took for a lost broker, reconnecting and failing again for ever
        ("cams/" + "a" * 300 + ".jpg", r"cannot be looked up: File name too long"),
        ("loop.jpg", r"a loop of links"),
    ],
)
def test_refs_that_cannot_be_had_are_refused_with_the_reason(
    folders: tuple[Path, Path], ref: str, reason: str
) -> None:
    root, _ = folders
    (root / "loop.jpg").symlink_to(root / "loop2.jpg")
    (root / "loop2.jpg").symlink_to(root / "loop.jpg")
    with pytest.raises(InvalidEvent, match=reason):
        frame_images(_frame(ref), root)


def test_a_file_that_cannot_be_read_is_refused_with_the_reason(
    folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a camera's uploader writing its files 0600 as another user would make it (this
    test may run as root, which reads anything: the denial is simulated)."""
    root, _ = folders

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(InvalidEvent, match=r"'cams/a.jpg': cannot be read: Permission denied$"):
        frame_images(_frame("cams/a.jpg"), root)


def test_a_file_too_big_to_be_a_frame_is_refused_unread(
    folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = folders
    monkeypatch.setattr(frames, "MAX_REF_BYTES", 100)
    with pytest.raises(InvalidEvent, match=r"'cams/a.jpg': \d+ bytes, more than a frame"):
        frame_images(_frame("cams/a.jpg"), root)


def _record(frame: CameraFrameV1) -> ConsumerRecord:
    return frame_record(frame.model_dump_json(exclude_none=True).encode())


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.jpg", b"", r"^frame f-1: image: empty image \(0 bytes\)$"),
        ("notes.jpg", b"not a picture\n", r"^frame f-1: image: the 14 bytes do not decode"),
        ("cut.jpg", _noisy_jpeg()[:3000], r"^frame f-1: image: the 3000 bytes of JPEG are cut"),
    ],
)
def test_the_worker_refuses_a_referenced_frame_it_cannot_read_with_the_reason(
    folders: tuple[Path, Path], name: str, content: bytes, reason: str
) -> None:
    root, outside = folders
    (root / name).write_bytes(content)
    (root / "out.jpg").symlink_to(outside / "secret.jpg")
    worker = RecognizerWorker(recognizer=None, producer=None, frames_dir=root)  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent, match=reason):
        worker.decode(_record(_frame(name)))
    with pytest.raises(
        InvalidEvent, match=r"^frame f-1: image_ref .out.jpg. is a link that leads outside"
    ):
        worker.decode(_record(_frame("out.jpg")))
    decoded = worker.decode(_record(_frame("cams/a.jpg")))
    assert decoded.images[0].shape == (24, 94, 3)
