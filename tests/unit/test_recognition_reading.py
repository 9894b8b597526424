"""Decoding OCR slot probabilities, multi-frame voting, the synthetic plates and the
camera-frame wire format (issue 8). No model here."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lanes.plates import Country, parse_plate
from plate_recognition.alphabet import ALPHABET, MAX_SLOTS, PAD, encode
from plate_recognition.plates import random_plate
from plate_recognition.reading import reading_from_probs, vote
from plate_recognition.scenes import render_scene
from streams.errors import InvalidEvent
from streams.frames import CameraFrameV1, decode_frame, frame_images, frame_message

BOX = (10.0, 20.0, 110.0, 50.0)


def probs_for(text: str, sure: float = 0.9) -> np.ndarray:
    """Slot probabilities putting `sure` on each character of `text` (pads after it)."""
    probs = np.full((MAX_SLOTS, len(ALPHABET)), (1 - sure) / (len(ALPHABET) - 1), np.float32)
    for slot, index in enumerate(encode(text)):
        probs[slot, index] = sure
    return probs


def test_a_read_has_one_confidence_per_character_and_alternatives() -> None:
    probs = probs_for("29H12345")
    probs[3, ALPHABET.index("1")] = 0.55  # slot 3 unsure between 1 and 7
    probs[3, ALPHABET.index("7")] = 0.40
    read = reading_from_probs(probs, bbox=BOX, detection_confidence=0.8)
    assert read.text == "29H12345"
    assert len(read.char_confidences) == 8
    assert read.char_confidences[3] == pytest.approx(0.55, abs=1e-3)
    assert read.candidates[0][0] == "29H72345"
    assert read.text not in {t for t, _ in read.candidates}
    assert read.country == "VN"
    assert 0 < read.confidence < 0.55


def test_voting_lets_clear_frames_outvote_a_bad_one() -> None:
    clear = reading_from_probs(probs_for("桂A12345"), bbox=BOX, detection_confidence=0.9)
    wrong = reading_from_probs(probs_for("桂A12845", 0.6), bbox=BOX, detection_confidence=0.5)
    assert wrong.text == "桂A12845"
    voted = vote([wrong, clear, clear])
    assert voted.text == "桂A12345"
    assert voted.frames == 3
    assert voted.country == "CN"
    with pytest.raises(ValueError, match="at least one"):
        vote([])


def test_synthetic_plates_follow_the_countries_rules() -> None:
    rng = random.Random(5)
    seen = {Country.VN: 0, Country.CN: 0}
    trailers = 0
    for _ in range(400):
        spec = random_plate(rng)
        parsed = parse_plate(spec.text)
        assert parsed.valid, spec
        assert len(spec.text) <= MAX_SLOTS and PAD not in spec.text
        seen[parsed.country] += 1
        trailers += parsed.kind is not None and parsed.kind.value == "trailer"
    assert min(seen.values()) > 100 and trailers > 40


def test_scenes_are_a_pure_function_of_the_seed() -> None:
    a, b = render_scene(77), render_scene(77)
    assert a.jpeg == b.jpeg and a.box == b.box and a.plate == b.plate
    assert render_scene(78).jpeg != a.jpeg
    x1, y1, x2, y2 = a.box
    assert 0 <= x1 < x2 <= a.image.shape[1] and 0 <= y1 < y2 <= a.image.shape[0]


T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
JPEG = render_scene(3, clean=True).jpeg


def frame_json(**fields: object) -> bytes:
    body: dict[str, object] = {
        "frame_id": "f-1",
        "camera_id": "hn-exp-gate-1",
        "captured_at": T0.isoformat(),
        **fields,
    }
    return json.dumps(body).encode()


def test_a_frame_carries_inline_jpeg_or_a_reference(tmp_path: Path) -> None:
    inline = decode_frame(frame_json(jpeg_b64=base64.b64encode(JPEG).decode()))
    assert frame_images(inline, tmp_path) == [JPEG]
    (tmp_path / "cams").mkdir()
    (tmp_path / "cams" / "a.jpg").write_bytes(JPEG)
    ref = decode_frame(frame_json(image_ref="cams/a.jpg"))
    assert frame_images(ref, tmp_path) == [JPEG]
    key, value = frame_message(ref)
    assert key == b"hn-exp-gate-1" and decode_frame(value) == ref
    enveloped = json.dumps(
        {"event_id": "e", "type": "camera_frame", "version": 1, "data": json.loads(value)}
    ).encode()
    assert decode_frame(enveloped) == ref


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "empty message value: a camera frame needs a JSON body"),
        (b"{", "invalid JSON"),
        (frame_json(), "exactly one of jpeg_b64 and image_ref"),
        (frame_json(jpeg_b64="AAAA", image_ref="a.jpg"), "exactly one of"),
        (frame_json(jpeg_b64="AAAA", captured_at="2026-11-23T08:00:00"), "captured_at"),
    ],
)
def test_invalid_frames_are_refused_with_the_reason(value: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        decode_frame(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        # the field was glued to a prefix: "camera framecaptured_at: Input should have ..."
        (
            frame_json(jpeg_b64="AAAA", captured_at="2026-11-23T08:00:00"),
            "captured_at: Input should have timezone info",
        ),
        # epoch seconds were taken (as 1970 + n), a year-1 instant too (no UTC form)
        (
            frame_json(jpeg_b64="AAAA", captured_at=1796511269),
            "captured_at: must be an ISO 8601 date-time with offset, e.g. "
            "2026-11-24T08:00:00+07:00",
        ),
        (
            frame_json(jpeg_b64="AAAA", captured_at="0001-01-01T00:00:00+07:00"),
            "captured_at: must be between 2000-01-01 and 2199-12-31 (UTC)",
        ),
        # decoded as UTF-16 by its first bytes: "not JSON: 'utf-16-le' codec can't ..."
        (
            b"\xff\xfe{}",
            "value is not UTF-8 text (byte 0: b'\\xff'): send a camera frame as UTF-8 JSON",
        ),
    ],
)
def test_a_frames_refusal_names_the_field_first(value: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_frame(value)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"jpeg_b64": "@@@@"}, "not valid base64"),
        ({"jpeg_b64": base64.b64encode(b"GIF89a....").decode()}, "not a JPEG"),
        ({"image_ref": "../etc/passwd"}, "inside the frames folder"),
        ({"image_ref": "/etc/passwd"}, "inside the frames folder"),
        ({"image_ref": "cams/missing.jpg"}, "no such file"),
    ],
)
def test_images_that_cannot_be_had_are_refused(
    fields: dict[str, str], reason: str, tmp_path: Path
) -> None:
    frame = CameraFrameV1.model_validate_json(frame_json(**fields))
    with pytest.raises(InvalidEvent, match=reason):
        frame_images(frame, tmp_path)
