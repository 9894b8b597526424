"""Seeded full lane-camera frames at real camera resolutions (issue 25): 1920 x 1080, 1280 x
720 and the portrait 720 x 1160 of the street frames checked from outside. A truck 4-10 m
from the camera fills part of the frame, its plate about 90-250 px wide at 1080p (scaled by
the frame's shorter side elsewhere); around it the clutter of `frame_clutter` (buildings,
road, gate, another vehicle cut by the edge, several boards of text that are not plates);
day, night (dark, noisy, headlights, the plate lit by its lamp) or infrared (grey, the
plate bright); perspective, focus or motion blur, sensor noise, JPEG. The plate is drawn by
the second renderer (`photo_crops.draw_plate`, training fonts or the held-out shift fonts)
or the first (`plates.render_plate`). Pure function of the seed; evaluation seeds start at
5,000,000.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from plate_recognition.frame_clutter import (
    Box,
    background,
    colour,
    distractor_text,
    distractors,
    gate,
    paste,
    side_vehicle,
    text_board,
)
from plate_recognition.photo_crops import SHIFT_FONTS, TRAIN_FONTS, draw_plate, random_spec
from plate_recognition.plates import PlateSpec, random_plate, render_plate

RESOLUTIONS = {"1080p": (1920, 1080), "720p": (1280, 720), "portrait": (720, 1160)}
PLATE_WIDTH_1080 = (90.0, 250.0)  # px at 1080p: a truck 10 m to 4 m from the camera


@dataclass(frozen=True, slots=True)
class CameraFrame:
    image: np.ndarray  # BGR uint8, the JPEG decoded
    jpeg: bytes
    plate: PlateSpec
    box: tuple[float, float, float, float]  # the plate, x1, y1, x2, y2 in pixels
    lighting: str  # "day", "night" or "ir"
    distractors: tuple[Box, ...]  # boards of text that are not plates
    # who drew the plate: "first renderer", "training fonts" or "shift fonts" (the fonts the
    # OCR never trains on; the frame detector's training frames include them)
    drawn_by: str = "training fonts"


def plate_image(rng: random.Random, width: float) -> tuple[np.ndarray, PlateSpec, str]:
    """The plate, RGB float32, about `width` * 1.3 px wide (warped down later), its spec and
    who drew it (`CameraFrame.drawn_by`)."""
    roll = rng.random()
    if roll < 0.25:
        spec = random_plate(rng, 0.5)
        height = max(24, round(width * 1.3 / spec.aspect))
        return render_plate(spec, rng, height=height).astype(np.float32), spec, "first renderer"
    fonts = SHIFT_FONTS if roll < 0.45 else TRAIN_FONTS
    spec = random_spec(rng, 0.5)
    mm = 520.0 if spec.country == "VN" and len(spec.lines) == 1 else 440.0
    drawn_by = "shift fonts" if fonts is SHIFT_FONTS else "training fonts"
    return draw_plate(spec, rng, fonts, scale=width * 1.3 / mm), spec, drawn_by


def _truck(rng: random.Random, img: np.ndarray, plate_w: float) -> tuple[float, float]:
    """A truck's front somewhere in the lane; -> where its plate's centre goes."""
    h, w = img.shape[:2]
    tw = plate_w * rng.uniform(4.5, 6.0)
    cx = rng.uniform(0.25, 0.75) * w
    bumper_y = rng.uniform(0.55, 0.88) * h
    return truck_front(rng, img, plate_w, tw, (cx, bumper_y))


def truck_front(
    rng: random.Random,
    img: np.ndarray,
    plate_w: float,
    tw: float,
    at: tuple[float, float],
) -> tuple[float, float]:
    """A truck's front `tw` px wide, centred on `at` = (x, bumper's y): cab, windscreen,
    grille, lights, bumper, its owner's name painted on; -> where its plate's centre goes."""
    cx, bumper_y = at
    top = bumper_y - tw * rng.uniform(0.9, 1.4)
    x1, x2 = int(cx - tw / 2), int(cx + tw / 2)
    body = colour(rng, 20, 235)
    cv2.rectangle(img, (x1, int(top)), (x2, int(bumper_y + plate_w * 0.5)), body, -1)
    wy2 = int(top + (bumper_y - top) * 0.45)
    cv2.rectangle(
        img,
        (x1 + int(tw * 0.05), int(top) + 8),
        (x2 - int(tw * 0.05), wy2),
        colour(rng, 20, 90),
        -1,
    )
    shade = tuple(max(0, c - 50) for c in body)
    for gy in range(wy2 + 12, int(bumper_y - plate_w * 0.3), max(4, int(plate_w * 0.06))):
        cv2.line(
            img,
            (int(cx - tw * 0.3), gy),
            (int(cx + tw * 0.3), gy),
            shade,
            max(1, int(plate_w * 0.02)),
        )
    lamp_y = int(bumper_y - plate_w * 0.35)
    for lx in (x1 + int(tw * 0.1), x2 - int(tw * 0.1)):
        cv2.circle(img, (lx, lamp_y), max(4, int(plate_w * 0.12)), (235, 235, 215), -1)
    cv2.rectangle(
        img,
        (x1, int(bumper_y - plate_w * 0.12)),
        (x2, int(bumper_y + plate_w * 0.5)),
        colour(rng, 30, 90),
        -1,
    )
    if rng.random() < 0.6:  # the owner's name or phone above the windscreen: text, not a plate
        board = text_board(
            rng, distractor_text(rng), max(10, int(plate_w * 0.22)), body, colour(rng)
        )
        paste(
            img,
            board.astype(np.float32),
            int(cx - board.shape[1] / 2),
            int(top) - board.shape[0] - 4,
        )
    return cx + rng.uniform(-0.15, 0.15) * tw, bumper_y + plate_w * 0.18


def place_plate(
    rng: random.Random,
    img: np.ndarray,
    plate: np.ndarray,
    centre: tuple[float, float],
    width: float,
) -> tuple[float, float, float, float]:
    """The plate warped into the frame: `width` px wide, yaw (foreshortening), tilt, small
    rotation; -> its axis-aligned box."""
    ph, pw = plate.shape[:2]
    h, w = img.shape[:2]
    tw, th = width, width * ph / pw
    yaw = rng.uniform(-0.15, 0.15)  # one side nearer: taller
    angle = np.deg2rad(rng.uniform(-5, 5))
    corners = []
    for sx, sy in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        dx = sx * tw + rng.uniform(-0.04, 0.04) * tw
        dy = sy * th * (1 + yaw * sx * 2) + rng.uniform(-0.04, 0.04) * th
        corners.append((centre[0] + dx * np.cos(angle) - dy * np.sin(angle),
                        centre[1] + dx * np.sin(angle) + dy * np.cos(angle)))  # fmt: skip
    dst = np.array(corners, np.float32)
    dst[:, 0] = np.clip(dst[:, 0], 0, w - 1)
    dst[:, 1] = np.clip(dst[:, 1], 0, h - 1)
    src = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float32)
    x1, y1 = (int(v) for v in dst.min(axis=0))
    x2, y2 = (int(np.ceil(v)) + 1 for v in dst.max(axis=0))
    matrix = cv2.getPerspectiveTransform(src, dst - np.array([x1, y1], np.float32))
    size = (x2 - x1, y2 - y1)
    warped = cv2.warpPerspective(plate, matrix, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), matrix, size)[..., None]
    roi = img[y1:y2, x1:x2]
    roi[:] = warped[: roi.shape[0], : roi.shape[1]] * mask[: roi.shape[0], : roi.shape[1]] + roi * (
        1 - mask[: roi.shape[0], : roi.shape[1]]
    )
    return (
        float(dst[:, 0].min()),
        float(dst[:, 1].min()),
        float(dst[:, 0].max()),
        float(dst[:, 1].max()),
    )


def light(
    rng: random.Random, img: np.ndarray, boxes: Sequence[tuple[float, ...]]
) -> tuple[np.ndarray, str]:
    """Day, night or infrared; each plate's own lamp or retro-reflection kept brighter."""
    cut = [tuple(int(v) for v in box) for box in boxes]
    plates = [img[y1:y2, x1:x2].copy() for x1, y1, x2, y2 in cut]
    roll = rng.random()
    if roll < 0.55:
        out = img * rng.uniform(0.6, 1.25) + rng.uniform(-30, 25)
        out *= np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
        lighting = "day"
        if rng.random() < 0.3:  # a shadow across part of the frame
            ramp = np.linspace(
                rng.uniform(0.4, 1), rng.uniform(0.4, 1), img.shape[1], dtype=np.float32
            )
            out *= ramp[None, :, None]
        return out, lighting
    if roll < 0.8:
        dark = rng.uniform(0.12, 0.35)
        out = img * dark
        for (x1, y1, x2, y2), plate in zip(cut, plates, strict=True):
            out[y1:y2, x1:x2] = plate * rng.uniform(0.45, 0.9)
        lighting = "night"
    else:
        grey = img @ np.array([0.3, 0.5, 0.2], np.float32)
        out = np.repeat((grey * rng.uniform(0.3, 0.6))[..., None], 3, axis=2)
        for (x1, y1, x2, y2), plate in zip(cut, plates, strict=True):
            lit = plate @ np.array([0.3, 0.5, 0.2], np.float32)
            out[y1:y2, x1:x2] = np.clip(lit * rng.uniform(1.0, 1.4) + 20, 0, 255)[..., None]
        lighting = "ir"
    sigma = rng.uniform(3, 12)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, sigma, img.shape[:2])
    return out + noise.astype(np.float32)[..., None], lighting


def render_frame(seed: int, resolution: str = "1080p") -> CameraFrame:
    """One seeded frame at one of `RESOLUTIONS`."""
    rng = random.Random(seed)
    w, h = RESOLUTIONS[resolution]
    scale = min(w, h) / 1080
    plate_w = rng.uniform(*PLATE_WIDTH_1080) * scale
    img = background(rng, w, h)
    gate(rng, img)
    for _ in range(rng.randint(0, 2)):
        side_vehicle(rng, img)
    plate, spec, drawn_by = plate_image(rng, plate_w)
    centre = _truck(rng, img, plate_w)
    box = place_plate(rng, img, plate, centre, plate_w)
    avoid = (int(box[0]), int(box[1]), int(box[2]), int(box[3]))
    boards = distractors(rng, img, scale * rng.uniform(1.0, 2.0), [avoid], rng.randint(3, 8))
    img, lighting = light(rng, img, [box])
    decoded, jpeg = finish(rng, img, scale)
    return CameraFrame(decoded, jpeg, spec, box, lighting, tuple(boards), drawn_by)


def finish(rng: random.Random, img: np.ndarray, scale: float) -> tuple[np.ndarray, bytes]:
    """The camera's blur (none, focus or motion along the lane) and JPEG; -> the JPEG
    decoded (BGR) and its bytes."""
    blur = rng.random()
    if blur < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.6) * scale + 0.3)
    elif blur < 0.5:  # motion along the lane (vertical-ish)
        k = max(3, int(rng.uniform(3, 9) * scale))
        kernel = np.zeros((k, k), np.float32)
        kernel[:, k // 2] = 1.0 / k
        img = cv2.filter2D(img, -1, kernel)
    bgr = np.clip(img, 0, 255).astype(np.uint8)[..., ::-1]
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(40, 92)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    jpeg = buf.tobytes()
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), jpeg
