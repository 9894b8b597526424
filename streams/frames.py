"""The camera-frame wire format: topic `borderflow.camera-frames`, key `camera_id`.

A frame carries its image inline (`jpeg_b64`: base64 of the JPEG bytes, at most 2 MB) or by
reference (`image_ref`: a path relative to the recognizer's frames folder, never leading out
of it, by `..` or by a link), exactly one of the two. `burst_jpeg_b64` may add up to 7
further inline frames of the same vehicle from the same camera (a trigger burst): the
recognizer votes over all of them and publishes one read (a burst that also caught the
truck behind publishes that truck's read too, each plate voted on its own frames). Frames
are plain JSON or in borderflow's envelope (type `camera_frame`).

    {"frame_id": "f-1", "camera_id": "hn-exp-gate-1",
     "captured_at": "2026-11-23T08:00:00+00:00", "jpeg_b64": "/9j/4AAQ..."}
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from streams.codec import describe_validation_error
from streams.errors import InvalidEvent
from streams.jsonbody import load_object
from streams.timestamps import IsoAwareDatetime

CAMERA_FRAME_TYPE = "camera_frame"
MAX_JPEG_BYTES = 2 * 1024 * 1024
MAX_B64_CHARS = (MAX_JPEG_BYTES + 2) // 3 * 4
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Base64Jpeg = Annotated[str, StringConstraints(min_length=4, max_length=MAX_B64_CHARS)]


class CameraFrameV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    frame_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    camera_id: ShortText
    captured_at: IsoAwareDatetime  # ISO 8601 text with offset, 2000-2199: not epoch seconds
    jpeg_b64: Base64Jpeg | None = None
    image_ref: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None
    burst_jpeg_b64: list[Base64Jpeg] = Field(default_factory=list, max_length=7)

    @model_validator(mode="after")
    def _one_image(self) -> CameraFrameV1:
        if (self.jpeg_b64 is None) == (self.image_ref is None):
            raise ValueError("exactly one of jpeg_b64 and image_ref is required")
        return self


def decode_frame(value: bytes | None) -> CameraFrameV1:
    """A record's frame (plain or enveloped), or InvalidEvent naming what is wrong."""
    obj: Any = load_object(value, what="a camera frame")
    if "data" in obj and "type" in obj:
        if obj["type"] != CAMERA_FRAME_TYPE:
            raise InvalidEvent(f"envelope type {obj['type']!r} is not {CAMERA_FRAME_TYPE!r}")
        obj = obj["data"]
    try:
        return CameraFrameV1.model_validate(obj)
    except ValidationError as exc:
        # the field first, as every dead letter says it ("camera framecaptured_at: ..." was
        # the reason, the prefix glued to the field)
        raise InvalidEvent(describe_validation_error(exc)) from exc


def jpeg_bytes(b64: str, *, what: str = "jpeg_b64") -> bytes:
    """Strict base64 -> bytes that start like a JPEG, or InvalidEvent."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidEvent(f"{what} is not valid base64: {exc}") from exc
    if not raw.startswith(b"\xff\xd8"):
        raise InvalidEvent(f"{what} is not a JPEG (no SOI marker)")
    return raw


# A referenced frame is read whole into memory: bounded as an inline one is, more loosely (a
# 50-megapixel TIFF, the most the recognizer reads, is 150 MB uncompressed).
MAX_REF_BYTES = 256 * 1024 * 1024


def resolve_ref(image_ref: str, root: Path) -> Path:
    """The file an `image_ref` names under `root`; never outside it, by `..` or by a link."""
    ref = PurePosixPath(image_ref.removeprefix("file://"))
    if ref.is_absolute() or ".." in ref.parts:
        raise InvalidEvent(
            f"image_ref {image_ref!r} must be a relative path inside the frames folder"
        )
    try:
        folder = root.resolve()
        path = (folder / Path(*ref.parts)).resolve()
        inside = path.is_relative_to(folder)
        is_file = inside and path.is_file()
    except OSError as exc:  # a name too long
        raise InvalidEvent(f"image_ref {image_ref!r}: cannot be looked up: {exc.strerror}") from exc
    except RuntimeError as exc:  # Python 3.11's word for a loop of links
        raise InvalidEvent(f"image_ref {image_ref!r}: a loop of links") from exc
    if not inside:
        raise InvalidEvent(
            f"image_ref {image_ref!r} is a link that leads outside the frames folder"
        )
    if not is_file:
        raise InvalidEvent(f"image_ref {image_ref!r}: no such file in the frames folder")
    return path


def read_ref(image_ref: str, root: Path) -> bytes:
    """The bytes of the file an `image_ref` names, or InvalidEvent saying why not."""
    path = resolve_ref(image_ref, root)
    try:
        size = path.stat().st_size
        if size > MAX_REF_BYTES:
            raise InvalidEvent(
                f"image_ref {image_ref!r}: {size} bytes, more than a frame "
                f"({MAX_REF_BYTES // (1024 * 1024)} MiB)"
            )
        return path.read_bytes()
    except OSError as exc:  # not readable by this worker, removed meanwhile
        raise InvalidEvent(f"image_ref {image_ref!r}: cannot be read: {exc.strerror}") from exc


def frame_images(frame: CameraFrameV1, root: Path) -> list[bytes]:
    """The encoded image bytes of a frame, its burst after it."""
    if frame.jpeg_b64 is not None:
        first = jpeg_bytes(frame.jpeg_b64)
    else:
        assert frame.image_ref is not None
        first = read_ref(frame.image_ref, root)
    burst = [jpeg_bytes(b, what=f"burst_jpeg_b64[{i}]") for i, b in enumerate(frame.burst_jpeg_b64)]
    return [first, *burst]


def frame_message(frame: CameraFrameV1) -> tuple[bytes, bytes]:
    """(key, value) of a plain-JSON frame, for gateways and tests."""
    return frame.camera_id.encode(), frame.model_dump_json(exclude_none=True).encode()


def encode_jpeg_b64(jpeg: bytes) -> str:
    return base64.b64encode(jpeg).decode("ascii")
