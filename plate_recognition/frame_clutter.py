"""What surrounds the truck in a lane camera's frame (issue 25): sky, buildings with windows,
the road with its markings, poles, trees, the gate's booth and barrier, other vehicles cut
by the frame's edge, and text that is not a plate: road and gate signs, company names and
phone numbers on the truck, container codes, plate-sized boards with words on them. Drawn
on a float32 RGB canvas in place, every choice from `rng`.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from plate_recognition.photo_crops import SHIFT_FONTS, TRAIN_FONTS

Box = tuple[int, int, int, int]
_WORDS = (
    "STOP", "LANE 3", "CHECKPOINT", "CUSTOMS", "KIEM DICH", "HAI QUAN", "TRAM CAN", "NO ENTRY",
    "SLOW", "EXIT", "口岸", "海关", "检查站", "限速 20", "货运通道", "TRANSPORT", "LOGISTICS",
    "HOTLINE 1900", "VAN TAI", "物流", "CONTAINER", "WEIGH STATION", "P", "km/h",
)  # fmt: skip


def colour(rng: random.Random, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


def _noise(rng: random.Random, h: int, w: int, sigma: float) -> np.ndarray:
    """Blobby texture: noise at a coarse grid, blown up (cheap at full resolution)."""
    small = np.random.default_rng(rng.randint(0, 2**31)).normal(
        0, sigma, (h // 16 + 2, w // 16 + 2)
    )
    return cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)[..., None]


def background(rng: random.Random, w: int, h: int) -> np.ndarray:
    """Sky, buildings and the road in perspective: the frame's first layer."""
    img = np.empty((h, w, 3), np.float32)
    horizon = int(h * rng.uniform(0.15, 0.45))
    sky_top, sky_low = np.array(colour(rng, 120, 240)), np.array(colour(rng, 150, 250))
    t = np.linspace(0, 1, max(1, horizon), dtype=np.float32)[:, None, None]
    img[:horizon] = sky_top * (1 - t) + sky_low * t
    road = np.array(colour(rng, 60, 140), np.float32)
    img[horizon:] = road
    img[horizon:] += _noise(rng, h - horizon, w, 10)[:, :, :1]
    for _ in range(rng.randint(3, 9)):  # buildings along the horizon, with windows
        bw, bh = rng.randint(w // 12, w // 3), rng.randint(h // 10, h // 2)
        bx = rng.randint(-bw // 2, w)
        by = horizon - bh + rng.randint(0, h // 10)
        cv2.rectangle(img, (bx, by), (bx + bw, horizon + h // 20), colour(rng, 40, 220), -1)
        step_x, step_y = rng.randint(14, 40), rng.randint(18, 44)
        win = colour(rng, 20, 200)
        for wy in range(by + 8, horizon - 10, step_y):
            for wx in range(bx + 6, bx + bw - 10, step_x):
                cv2.rectangle(img, (wx, wy), (wx + step_x // 2, wy + step_y // 2), win, -1)
    for k in range(rng.randint(2, 5)):  # lane markings converging on the horizon
        x0 = int(w * (k + rng.uniform(0.2, 0.8)) / 5)
        vx = w // 2 + rng.randint(-w // 8, w // 8)
        for seg in range(0, h - horizon, rng.randint(40, 90)):
            f0, f1 = seg / (h - horizon), min(1.0, (seg + 30) / (h - horizon))
            p0 = (int(vx + (x0 - vx) * f0), horizon + seg)
            p1 = (int(vx + (x0 - vx) * f1), horizon + int(f1 * (h - horizon)))
            cv2.line(img, p0, p1, (225, 225, 210), max(1, int(8 * f1)))
    for _ in range(rng.randint(0, 4)):  # trees: dark green blobs
        cx, cy, r = (
            rng.randint(0, w),
            horizon - rng.randint(0, h // 6),
            rng.randint(h // 20, h // 7),
        )
        cv2.circle(img, (cx, cy), r, colour(rng, 20, 90), -1)
    img += _noise(rng, h, w, 6)
    return img


def gate(rng: random.Random, img: np.ndarray) -> None:
    """Poles, the booth and a red-and-white barrier arm."""
    h, w = img.shape[:2]
    for _ in range(rng.randint(1, 4)):
        px = rng.randint(0, w)
        cv2.rectangle(img, (px, 0), (px + rng.randint(6, 30), h), colour(rng, 90, 200), -1)
    if rng.random() < 0.6:
        by = rng.randint(h // 5, h // 2)
        x0, x1 = rng.randint(0, w // 3), rng.randint(2 * w // 3, w)
        seg = rng.randint(30, 80)
        for i, x in enumerate(range(x0, x1, seg)):
            c = (200, 30, 30) if i % 2 else (235, 235, 235)
            cv2.rectangle(img, (x, by), (x + seg, by + rng.randint(10, 22)), c, -1)
    if rng.random() < 0.5:
        bx = rng.choice((rng.randint(0, w // 6), rng.randint(5 * w // 6, w)))
        bh = rng.randint(h // 4, h // 2)
        cv2.rectangle(img, (bx - w // 10, h // 3), (bx + w // 10, h // 3 + bh), colour(rng), -1)


def side_vehicle(rng: random.Random, img: np.ndarray) -> None:
    """Another vehicle at the left or right edge, cut by the frame (its plate not in view)."""
    h, w = img.shape[:2]
    vw, vh = rng.randint(w // 6, w // 3), rng.randint(h // 4, 2 * h // 3)
    x = rng.choice((-vw // 2, w - vw // 2))
    y = rng.randint(h // 5, h - vh // 2)
    body = colour(rng, 20, 235)
    cv2.rectangle(img, (x, y), (x + vw, y + vh), body, -1)
    cv2.rectangle(img, (x + 10, y + 10), (x + vw - 10, y + vh // 3), (40, 50, 60), -1)
    for cx in (x + vw // 5, x + 4 * vw // 5):
        cv2.circle(img, (cx, y + vh), max(8, vh // 6), (25, 25, 25), -1)


def text_board(
    rng: random.Random, text: str, height: int, bg: tuple[int, ...], ink: tuple[int, ...]
) -> np.ndarray:
    """`text` on a board `height` pixels tall, RGB uint8, in a font of the plate pools."""
    pool = SHIFT_FONTS if rng.random() < 0.5 else TRAIN_FONTS
    cjk = any(ord(c) > 0x7F for c in text)
    path, _, face = rng.choice(pool.cjk if cjk else pool.latin).partition("#")
    font = ImageFont.truetype(path, max(8, int(height * 0.6)), index=int(face or 0))
    width = int(font.getlength(text)) + height // 2
    board = Image.new("RGB", (max(width, height), height), tuple(bg))
    ImageDraw.Draw(board).text((height // 4, height // 8), text, font=font, fill=tuple(ink))
    return np.asarray(board, np.uint8)


def distractor_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(_WORDS)
    if roll < 0.6:  # a container code: owner, serial, check digit
        owner = "".join(rng.choice(string.ascii_uppercase) for _ in range(3)) + "U"
        return f"{owner} {rng.randint(100000, 999999)} {rng.randint(0, 9)}"
    if roll < 0.8:  # a phone number painted on a truck
        return f"0{rng.randint(90, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    return "".join(
        rng.choice(string.ascii_uppercase + string.digits) for _ in range(rng.randint(3, 8))
    )


def paste(img: np.ndarray, patch: np.ndarray, x: int, y: int) -> Box | None:
    """`patch` (RGB) onto `img` with its top-left at x, y, clipped; -> the box drawn or None."""
    h, w = img.shape[:2]
    ph, pw = patch.shape[:2]
    x1, y1, x2, y2 = max(0, x), max(0, y), min(w, x + pw), min(h, y + ph)
    if x2 <= x1 or y2 <= y1:
        return None
    img[y1:y2, x1:x2] = patch[y1 - y : y2 - y, x1 - x : x2 - x]
    return x1, y1, x2, y2


def distractors(
    rng: random.Random, img: np.ndarray, scale: float, avoid: Sequence[Box], count: int
) -> list[Box]:
    """`count` boards of text that are not plates, some of a plate's size and shape, none
    over any box of `avoid` (the plates); -> their boxes."""
    h, w = img.shape[:2]
    drawn: list[Box] = []
    for _ in range(count * 3):
        if len(drawn) >= count:
            break
        height = int(rng.uniform(18, 80) * scale)
        bg, ink = colour(rng), colour(rng)
        if rng.random() < 0.5:  # the plates' own colour pairs, so colour alone does not tell
            bg, ink = rng.choice(
                (((236, 236, 232), (18, 18, 18)), ((236, 190, 40), (18, 18, 18)),
                 ((20, 60, 170), (236, 236, 232)), ((30, 120, 60), (236, 236, 232)))
            )  # fmt: skip
        board = text_board(rng, distractor_text(rng), height, bg, ink)
        bh, bw = board.shape[:2]
        x, y = rng.randint(-bw // 4, w - bw * 3 // 4), rng.randint(0, h - bh)
        if any(
            min(x + bw, a[2]) - max(x, a[0]) > -10 and min(y + bh, a[3]) - max(y, a[1]) > -10
            for a in avoid
        ):
            continue
        box = paste(img, board.astype(np.float32), x, y)
        if box is not None:
            drawn.append(box)
    return drawn
