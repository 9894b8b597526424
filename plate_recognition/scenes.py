"""Seeded synthetic gate-camera frames: a truck front (or trailer rear) with one plate.

Perspective, blur, glare, dirt, night noise and JPEG artefacts; the label is the plate's
normalised text and its axis-aligned box in frame pixels. Pure function of the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cv2
import numpy as np

from plate_recognition.plates import PlateSpec, random_plate, render_plate

FRAME_W = 480
FRAME_H = 360


@dataclass(frozen=True, slots=True)
class Scene:
    image: np.ndarray  # BGR uint8, as cv2 decodes a camera's JPEG
    jpeg: bytes
    plate: PlateSpec
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes (a detection against a scene's
    `box`: 0.5 or more counts as found)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _background(rng: random.Random, w: int, h: int) -> np.ndarray:
    top = np.array([rng.randint(60, 220) for _ in range(3)], dtype=np.float32)
    bottom = np.array([rng.randint(30, 140) for _ in range(3)], dtype=np.float32)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img = (top * (1 - t) + bottom * t) * np.ones((1, w, 1), dtype=np.float32)
    return img.astype(np.uint8)


def _truck(rng: random.Random, img: np.ndarray) -> tuple[int, int, int, int]:
    """Draws a cab (or trailer rear); returns the bumper zone where the plate goes."""
    h, w = img.shape[:2]
    x1, x2 = rng.randint(0, w // 6), rng.randint(5 * w // 6, w)
    y1, y2 = rng.randint(0, h // 5), rng.randint(4 * h // 5, h)
    colour = tuple(rng.randint(20, 235) for _ in range(3))
    cv2.rectangle(img, (x1, y1), (x2, y2), colour, -1)
    # windscreen, grille bars, headlights, bumper
    cv2.rectangle(img, (x1 + 15, y1 + 10), (x2 - 15, y1 + (y2 - y1) // 3), (40, 50, 60), -1)
    gy1, gy2 = y1 + (y2 - y1) // 3 + 10, y1 + 2 * (y2 - y1) // 3
    shade = tuple(max(0, c - 50) for c in colour)
    for gy in range(gy1, gy2, rng.randint(6, 14)):
        cv2.line(img, (x1 + 60, gy), (x2 - 60, gy), shade, rng.randint(1, 4))
    for cx in (x1 + 30, x2 - 30):
        cv2.circle(img, (cx, gy1 + 15), rng.randint(8, 18), (230, 230, 210), -1)
    by1 = gy2 + 4
    cv2.rectangle(img, (x1, by1), (x2, min(h - 1, by1 + (y2 - by1))), (60, 60, 60), -1)
    for _ in range(rng.randint(0, 3)):  # stickers and hazard stripes: non-plate rectangles
        sx, sy = rng.randint(x1, x2 - 30), rng.randint(y1, y2 - 15)
        cv2.rectangle(
            img,
            (sx, sy),
            (sx + rng.randint(15, 70), sy + rng.randint(8, 30)),
            tuple(rng.randint(0, 255) for _ in range(3)),
            -1,
        )
    return x1 + 10, gy1, x2 - 10, min(h - 5, y2)


def _place(
    rng: random.Random, plate: np.ndarray, img: np.ndarray, zone: tuple[int, int, int, int]
) -> tuple[float, float, float, float]:
    ph, pw = plate.shape[:2]
    aspect = pw / ph
    target_w = rng.uniform(90, 190) if aspect > 2.5 else rng.uniform(60, 110)
    target_h = target_w / aspect
    zx1, zy1, zx2, zy2 = zone
    cx = rng.uniform(zx1 + target_w / 2, max(zx1 + target_w / 2 + 1, zx2 - target_w / 2))
    cy = rng.uniform(zy1 + target_h / 2, max(zy1 + target_h / 2 + 1, zy2 - target_h / 2))
    h, w = img.shape[:2]
    cx = min(max(cx, target_w / 2 + 4), w - target_w / 2 - 4)
    cy = min(max(cy, target_h / 2 + 4), h - target_h / 2 - 4)
    # perspective: each corner moved by up to ~8% of the plate size, plus a small rotation
    j = 0.08
    angle = np.deg2rad(rng.uniform(-6, 6))
    corners = []
    for sx, sy in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        dx = sx * target_w + rng.uniform(-j, j) * target_w
        dy = sy * target_h + rng.uniform(-j, j) * target_h
        rx = dx * np.cos(angle) - dy * np.sin(angle)
        ry = dx * np.sin(angle) + dy * np.cos(angle)
        corners.append((cx + rx, cy + ry))
    dst = np.array(corners, dtype=np.float32)
    dst[:, 0] = np.clip(dst[:, 0], 0, w - 1)
    dst[:, 1] = np.clip(dst[:, 1], 0, h - 1)
    src = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    bgr = cv2.cvtColor(plate, cv2.COLOR_RGB2BGR)
    warped = cv2.warpPerspective(bgr, matrix, (w, h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), matrix, (w, h))
    img[mask > 127] = warped[mask > 127]
    return (
        float(dst[:, 0].min()),
        float(dst[:, 1].min()),
        float(dst[:, 0].max()),
        float(dst[:, 1].max()),
    )


def _degrade(rng: random.Random, img: np.ndarray, box: tuple[float, ...]) -> np.ndarray:
    out = img.astype(np.float32)
    h, w = img.shape[:2]
    # dirt and glare are drawn in a window around the plate only (cheap, same look)
    wx1, wy1 = max(0, int(box[0]) - 40), max(0, int(box[1]) - 40)
    wx2, wy2 = min(w, int(box[2]) + 40), min(h, int(box[3]) + 40)
    roi = out[wy1:wy2, wx1:wx2]
    rh, rw = roi.shape[:2]
    if rng.random() < 0.35:  # dirt on and around the plate
        blot = np.zeros((rh, rw), np.float32)
        for _ in range(rng.randint(1, 6)):
            cx = rng.randint(int(box[0]) - wx1, max(int(box[0]), int(box[2])) - wx1)
            cy = rng.randint(int(box[1]) - wy1, max(int(box[1]), int(box[3])) - wy1)
            cv2.circle(blot, (cx, cy), rng.randint(2, 7), 1.0, -1)
        blot = cv2.GaussianBlur(blot, (0, 0), 2)[..., None]
        roi[:] = roi * (1 - 0.55 * blot) + np.array([40, 55, 70], np.float32) * 0.55 * blot
    if rng.random() < 0.3:  # glare: a bright soft spot
        gx, gy = rng.uniform(box[0], box[2]) - wx1, rng.uniform(box[1], box[3]) - wy1
        yy, xx = np.mgrid[0:rh, 0:rw].astype(np.float32)
        radius = rng.uniform(10, 40)
        spot = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius**2))[..., None]
        roi[:] = roi + spot * rng.uniform(60, 150)
    if rng.random() < 0.25:  # night: dark, noisy
        out = out * rng.uniform(0.25, 0.55)
        out = out + np.random.default_rng(rng.randint(0, 2**31)).normal(
            0, rng.uniform(4, 12), out.shape
        )
    else:
        out = out * rng.uniform(0.75, 1.2) + rng.uniform(-20, 20)
    out = np.clip(out, 0, 255).astype(np.uint8)
    sigma = rng.choice((0.0, 0.0, 0.6, 1.0, 1.4))
    if sigma:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return out


def render_scene(
    seed: int, cn_share: float = 0.45, *, clean: bool = False, plate: PlateSpec | None = None
) -> Scene:
    """One seeded frame: BGR image (the JPEG decoded), its JPEG bytes, plate and box.
    `clean`: no dirt, glare, night or blur, JPEG quality 90. `plate`: this plate rather than
    the seed's (several frames of one vehicle)."""
    rng = random.Random(seed)
    spec = random_plate(rng, cn_share)
    spec = plate or spec
    drawn = render_plate(spec, rng, height=rng.choice((64, 80, 96)))
    img = _background(rng, FRAME_W, FRAME_H)
    zone = _truck(rng, img)
    box = _place(rng, drawn, img, zone)
    quality = 90
    if not clean:
        img = _degrade(rng, img, box)
        quality = rng.randint(35, 92)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    jpeg = buf.tobytes()
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return Scene(image=decoded, jpeg=jpeg, plate=spec, box=box)
