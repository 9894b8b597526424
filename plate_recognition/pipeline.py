"""The run-time pipeline: frame -> plate reads, on onnxruntime through fast-alpr.

`fast_alpr.ALPR` gets the project's own detector object (`YoloOnnxDetector`) and an OCR
built from the project's own model files (`ocr_model_path`/`ocr_config_path` given to
fast-plate-ocr's recogniser), never the libraries' downloading defaults. The OCR keeps the
whole slot x alphabet probability matrix, from which the read's per-character confidences,
alternatives and multi-frame vote come (`plate_recognition.reading`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
from fast_alpr import ALPR  # type: ignore[import-untyped]
from fast_alpr.base import OcrResult  # type: ignore[import-untyped]
from fast_alpr.default_ocr import DefaultOCR  # type: ignore[import-untyped]

from plate_recognition.crops import MIN_CROP_CONFIDENCE, big_enough, from_canvas, on_canvas
from plate_recognition.detector import YoloOnnxDetector
from plate_recognition.errors import ModelsMissing
from plate_recognition.frame_detector import FrameDetector
from plate_recognition.images import decode_image
from plate_recognition.reading import PlateReading, burst_plates, reading_from_probs
from plate_recognition.rectify import level
from plate_recognition.views import ONE_VIEW, Views, load_views

MODELS_DIR = Path(__file__).resolve().parent / "models"
DETECTOR_FILE = "plate_detector.onnx"
FRAME_DETECTOR_FILE = "plate_frame_detector.onnx"  # size-free, for frames over 640 px
OCR_FILE = "plate_ocr.onnx"
OCR_CONFIG_FILE = "plate_ocr_config.yaml"


# A read less confident than this is also tried turned 180 degrees (a picture upside down
# with no orientation tag: a phone's photograph sent without its EXIF, a camera mounted the
# other way up), first in one view, then, if that one is more confident, in all the views,
# and the more confident read is kept. Upside down, the real crops read at confidence
# 0.07 median (0.23 at the 90th percentile), upright 0.79; 0.5 leaves every upright read of
# the real crops, 300 rendered crops and 40 frames as it was, and turned, the real crops
# read 216 of the 221 they read upright (docs/recognition.md, 2026-12-06).
UPSIDE_DOWN_BELOW = 0.5


def _plate_confidence(slot_probs: np.ndarray) -> float:
    return float(np.prod(slot_probs.max(axis=1)))


@dataclass(frozen=True)
class SlotOcrResult(OcrResult):  # type: ignore[misc]
    """fast-alpr's OCR result plus the slot x alphabet probabilities."""

    slot_probs: np.ndarray | None = None


class SlotProbabilityOCR(DefaultOCR):  # type: ignore[misc]
    """fast-alpr's default OCR (fast-plate-ocr) on the project's files, keeping the full
    probability matrix rather than only each slot's best probability, and reading each crop
    in the views fitted beside the model (`plate_recognition.views`)."""

    views: Views = ONE_VIEW
    upside_down_below: float = UPSIDE_DOWN_BELOW

    def _slot_probs(self, x: np.ndarray, views: Views | None = None) -> np.ndarray:
        config = self.ocr_model.config
        probs = (views or self.views).read(self._run, x[None])
        return np.asarray(probs, dtype=np.float32).reshape(
            config.max_plate_slots, len(config.alphabet)
        )

    def _run(self, images: np.ndarray) -> np.ndarray:
        (probs,) = self.ocr_model.model.run(
            [self.ocr_model.plate_output_name], {"input": images[:, :, :, None]}
        )
        return np.asarray(probs, dtype=np.float32)

    def predict(self, cropped_plate: np.ndarray) -> SlotOcrResult | None:
        if cropped_plate is None or cropped_plate.size == 0:
            return None
        config = self.ocr_model.config
        gray = cv2.cvtColor(cropped_plate, cv2.COLOR_BGR2GRAY)
        x = cv2.resize(gray, (config.img_width, config.img_height), interpolation=cv2.INTER_LINEAR)
        slot_probs = self._slot_probs(x)
        confidence = _plate_confidence(slot_probs)
        if confidence < self.upside_down_below:
            turned = np.ascontiguousarray(x[::-1, ::-1])
            if _plate_confidence(self._slot_probs(turned, ONE_VIEW)) > confidence:
                upside_down = self._slot_probs(turned)
                if _plate_confidence(upside_down) > confidence:
                    slot_probs = upside_down
        best = slot_probs.argmax(axis=1)
        text = "".join(config.alphabet[i] for i in best).rstrip(config.pad_char)
        return SlotOcrResult(
            text=text,
            confidence=[float(p) for p in slot_probs.max(axis=1)],
            slot_probs=slot_probs,
        )


def _session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return options


class PlateRecognizer:
    """Frames (BGR arrays or encoded image bytes) -> plate reads, best first. Frames up to
    640 px go to the 256 px detector; larger ones (camera frames, 720p and 1080p) to the
    full-frame detector (`FrameDetector`) when its model is in `models_dir`."""

    def __init__(
        self,
        models_dir: Path = MODELS_DIR,
        *,
        threads: int = 1,
        detection_threshold: float = 0.35,
    ) -> None:
        paths = [models_dir / name for name in (DETECTOR_FILE, OCR_FILE, OCR_CONFIG_FILE)]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ModelsMissing(f"plate recognition model files missing: {', '.join(missing)}")
        detector: YoloOnnxDetector | FrameDetector = YoloOnnxDetector(
            paths[0], conf_threshold=detection_threshold, threads=threads
        )
        if (models_dir / FRAME_DETECTOR_FILE).is_file():
            detector = FrameDetector(models_dir / FRAME_DETECTOR_FILE, detector, threads=threads)
        ocr = SlotProbabilityOCR(
            hub_ocr_model=None,
            device="cpu",
            providers=["CPUExecutionProvider"],
            sess_options=_session_options(threads),
            model_path=paths[1],
            config_path=paths[2],
        )
        ocr.views = load_views(models_dir)
        self.alpr = ALPR(detector=detector, ocr=ocr)

    def read(self, image: np.ndarray) -> list[PlateReading]:
        """Every plate found in a BGR frame, the most confident detection first. An image
        that is itself a plate (`is_plate_crop`: a photograph cut to the plate, as plate
        datasets and other systems' crops are, tightly or with margins) is read as one plate.
        An image or a box too small to hold a readable plate (`crops.big_enough`) is none."""
        if not big_enough(image.shape[1], image.shape[0]):
            return []
        readings = []
        for result in self.alpr.predict(image):
            ocr = result.ocr
            box = result.detection.bounding_box
            if not isinstance(ocr, SlotOcrResult) or ocr.slot_probs is None:
                continue
            if not big_enough(box.x2 - box.x1, box.y2 - box.y1):
                continue
            readings.append(
                reading_from_probs(
                    ocr.slot_probs,
                    bbox=(float(box.x1), float(box.y1), float(box.x2), float(box.y2)),
                    detection_confidence=result.detection.confidence,
                )
            )
        readings.sort(key=lambda r: -r.detection_confidence)
        if is_plate_crop(image.shape[1], image.shape[0], [r.bbox for r in readings]) and (
            readings or has_contrast(image)
        ):
            return self._read_crop(image, readings[:1])
        return readings

    def _read_crop(self, image: np.ndarray, found: list[PlateReading]) -> list[PlateReading]:
        """A plate photograph, as cut: the most confident of its read whole, of the box the
        detector found in it as it is (`found`), and of the box found in it laid on a canvas
        at a scene's scale (`crops.on_canvas`: loose crops), and of the image levelled when
        its plate slopes (`rectify.level`: a camera above and beside the lane); under
        `MIN_CROP_CONFIDENCE`, none (what the OCR reads of an image too small or unclear to
        hold a plate). The box found is not levelled: on the real crops that lost a read
        and gained none, tight or with margins."""
        detector = self.alpr.detector
        small = detector.small if isinstance(detector, FrameDetector) else detector
        canvas, scale, left, top = on_canvas(image, small.size)
        for detection in small.predict(canvas)[:1]:
            b = detection.bounding_box
            box = from_canvas((b.x1, b.y1, b.x2, b.y2), scale, left, top, image.shape)
            if box is not None:
                found.append(self._read_box(image, box, detection.confidence))
        vouched = found[0].detection_confidence if found else 0.0
        whole_box = (0, 0, image.shape[1], image.shape[0])
        whole = self._read_box(image, whole_box, vouched)
        found.extend(self._read_levelled(image, whole_box, vouched))
        best = max([whole, *found], key=lambda r: r.confidence)  # ties: the whole image
        return [best] if best.confidence >= MIN_CROP_CONFIDENCE else []

    def _read_box(
        self, image: np.ndarray, box: tuple[int, int, int, int], detection_confidence: float
    ) -> PlateReading:
        x1, y1, x2, y2 = box
        return self._read_plate(image[y1:y2, x1:x2], box, detection_confidence)

    def _read_levelled(
        self, image: np.ndarray, box: tuple[int, int, int, int], detection_confidence: float
    ) -> list[PlateReading]:
        """The plate in `box` levelled (`rectify.level`) and read, when it slopes; else none."""
        x1, y1, x2, y2 = box
        levelled = level(image[y1:y2, x1:x2])
        return [] if levelled is None else [self._read_plate(levelled, box, detection_confidence)]

    def _read_plate(
        self, plate: np.ndarray, box: tuple[int, int, int, int], detection_confidence: float
    ) -> PlateReading:
        ocr = self.alpr.ocr.predict(np.ascontiguousarray(plate))
        x1, y1, x2, y2 = box
        return reading_from_probs(
            ocr.slot_probs,
            bbox=(float(x1), float(y1), float(x2), float(y2)),
            detection_confidence=detection_confidence,
        )

    def read_bytes(self, data: bytes) -> list[PlateReading]:
        return self.read(decode_image(data))

    def read_burst(self, images: Sequence[np.ndarray]) -> list[PlateReading]:
        """A trigger burst's frames -> its plates (`reading.burst_plates`): each frame's best
        plate, grouped by plate and voted; one read for a burst of one vehicle."""
        return burst_plates([found[0] for found in (self.read(image) for image in images) if found])


# An image is taken for a plate cut out of a photograph (a crop, as plate datasets and other
# systems send) when it is shaped like a plate (wider than tall: a two-line plate is about
# 1.3 : 1, a one-line one 3 to 5 : 1) and no taller than a plate photographed close (a camera
# frame is 720 px and more), and either too small to be a scene (a plate in a scene under
# `CROP_MAX_SCENE_WIDTH` px would be too small to read), or as wide as a one-line plate
# (`CROP_WIDE`: no camera frame is), or the detector, which learned plates in scenes, sees a
# plate covering `CROP_BOX_SHARE` of it or more. In the renderer's 480 x 360
# scenes a plate covers 1-9% of the frame; in the 300 real crops the detector's boxes, when it
# finds one, cover 14-59% (they cut into the characters).
CROP_ASPECT = (1.2, 7.0)
CROP_MAX_HEIGHT = 600
CROP_MAX_SCENE_WIDTH = 320
CROP_WIDE = 2.2
CROP_BOX_SHARE = 0.12


def is_plate_crop(
    width: int, height: int, boxes: Sequence[tuple[float, float, float, float]]
) -> bool:
    """Whether a `width` x `height` image in which the detector found `boxes` (x1, y1, x2,
    y2, best first) is a plate cut out of a photograph rather than a scene with plates."""
    if height <= 0 or height > CROP_MAX_HEIGHT:
        return False
    if not CROP_ASPECT[0] <= width / height <= CROP_ASPECT[1]:
        return False
    if width <= CROP_MAX_SCENE_WIDTH or width / height >= CROP_WIDE:
        return True
    if not boxes:  # a small scene with no plate in it: nothing to read
        return False
    x1, y1, x2, y2 = boxes[0]
    return (x2 - x1) * (y2 - y1) >= CROP_BOX_SHARE * width * height


# A plate's characters stand out from its ground: the 300 real crops' grey levels spread
# 11 or more (standard deviation), a blank or one-colour image 0-1. Below this, an image
# with no box found holds no plate, and reading it whole would invent one (a grey 94 x 24
# image read '62D2222').
CROP_MIN_CONTRAST = 3.0


def has_contrast(image: np.ndarray) -> bool:
    return float(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).std()) >= CROP_MIN_CONTRAST
