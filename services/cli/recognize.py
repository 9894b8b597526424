"""`borderflow recognize IMAGE...`: the plate reads of image files, one JSON line per image
holding each distinct plate found in it, as the recognizer worker publishes them
(`plate_recognition.reading.frame_plates`), or one voted read with `--vote` (`"plate"`;
`"plates"` adds a second truck's read when the frames show one), for people checking a
camera. Exit status 1 when an
image cannot be read, 0 otherwise (an image with no plate prints `"plates": []`)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lanes.plates import display_plate
from plate_recognition.errors import RecognitionError
from plate_recognition.images import decode_image
from plate_recognition.pipeline import PlateRecognizer
from plate_recognition.reading import PlateReading, frame_plates


def _out(line: str) -> None:
    print(line)  # noqa: T201 (a terminal front end, like services/cli/main.py)


def _err(line: str) -> None:
    print(line, file=sys.stderr)  # noqa: T201


def reading_json(reading: PlateReading) -> dict[str, Any]:
    return {
        "plate": reading.text,
        "printed": display_plate(reading.text),
        "country": reading.country,
        "confidence": reading.confidence,
        "char_confidences": list(reading.char_confidences),
        "candidates": [{"text": t, "confidence": p} for t, p in reading.candidates],
        "bbox": [round(v, 1) for v in reading.bbox],
        "detection_confidence": reading.detection_confidence,
        "frames": reading.frames,
    }


def main_recognize(images: Sequence[str], *, vote: bool = False) -> int:
    # fast_plate_ocr logs "Using custom providers" at INFO as the OCR loads: not a line for
    # stderr, where each refusal is one line (the worker's log keeps it)
    library = logging.getLogger("fast_plate_ocr")
    level = library.level
    library.setLevel(logging.WARNING)
    try:
        recognizer = PlateRecognizer()
    except RecognitionError as exc:
        _err(f"borderflow recognize: {exc}")
        return 2
    finally:
        library.setLevel(level)
    status = 0
    decoded, voted_names = [], []
    for name in images:
        try:
            image = decode_image(Path(name).read_bytes())
        except (OSError, RecognitionError) as exc:
            _err(f"borderflow recognize: {name}: {exc}")
            status = 1
            continue
        if vote:
            decoded.append(image)
            voted_names.append(name)
            continue
        plates = [reading_json(r) for r in frame_plates(recognizer.read(image))]
        _out(json.dumps({"image": name, "plates": plates}, ensure_ascii=False))
    if vote and decoded:
        voted = [reading_json(r) for r in recognizer.read_burst(decoded)]
        # "plate": the burst's vehicle; "plates": each plate the frames show (a second
        # truck caught by the burst too), the first being "plate"; "images": those voted
        # (a refused one is its line on stderr only)
        _out(
            json.dumps(
                {"images": voted_names, "plate": voted[0] if voted else None, "plates": voted},
                ensure_ascii=False,
            )
        )
    return status
