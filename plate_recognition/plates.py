"""Seeded synthetic plates: the text (both countries' rules, `lanes.plates`) and its image.

Vietnam: white (private) or yellow (commercial) plates, one line `29H-123.45` or two lines
`29H` / `123.45`, older 4-digit `12C-1234`, trailer series `R`. China: blue plates
`桂A·12345`, yellow large-vehicle plates (one or two lines, `桂A` on top) and yellow trailer
plates ending in `挂`. Fonts: DejaVu (Latin) and WenQuanYi Micro Hei (CJK), from Debian.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from plate_recognition.alphabet import PROVINCES

LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
)
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
CN_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CN_SERIAL = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_VN_TRUCK_SERIES = ("C", "C", "C", "H", "LD", "D", "E", "K")

WHITE = (236, 236, 232)
YELLOW = (236, 190, 40)
BLUE = (20, 60, 170)
BLACK = (18, 18, 18)


@dataclass(frozen=True, slots=True)
class PlateSpec:
    """What to draw: `text` is normalised (the label), `lines` as printed."""

    text: str
    country: str  # "VN" or "CN"
    lines: tuple[str, ...]
    background: tuple[int, int, int]
    ink: tuple[int, int, int]
    aspect: float  # width / height


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def vn_plate(rng: random.Random) -> PlateSpec:
    province = f"{rng.randint(11, 99):02d}"
    series = "R" if rng.random() < 0.3 else rng.choice(_VN_TRUCK_SERIES)
    five = rng.random() < 0.8
    tail = _digits(rng, 5 if five else 4)
    printed_tail = f"{tail[:3]}.{tail[3:]}" if five else tail
    yellow = rng.random() < 0.6
    background = YELLOW if yellow else WHITE
    text = province + series + tail
    if rng.random() < 0.5:
        return PlateSpec(
            text, "VN", (f"{province}{series}-{printed_tail}",), background, BLACK, 4.7
        )
    return PlateSpec(text, "VN", (f"{province}{series}", printed_tail), background, BLACK, 2.0)


def cn_plate(rng: random.Random) -> PlateSpec:
    province = rng.choice(PROVINCES)
    letter = rng.choice(CN_LETTERS)
    roll = rng.random()
    if roll < 0.3:  # trailer, yellow, usually two lines
        serial = "".join(rng.choice(CN_SERIAL) for _ in range(4))
        text = f"{province}{letter}{serial}挂"
        if rng.random() < 0.6:
            return PlateSpec(text, "CN", (f"{province}{letter}", f"{serial}挂"), YELLOW, BLACK, 1.9)
        return PlateSpec(text, "CN", (f"{province}{letter}·{serial}挂",), YELLOW, BLACK, 3.14)
    serial = "".join(rng.choice(CN_SERIAL) for _ in range(5))
    text = f"{province}{letter}{serial}"
    if roll < 0.6:
        return PlateSpec(text, "CN", (f"{province}{letter}·{serial}",), BLUE, WHITE, 3.14)
    if rng.random() < 0.5:
        return PlateSpec(text, "CN", (f"{province}{letter}", serial), YELLOW, BLACK, 1.9)
    return PlateSpec(text, "CN", (f"{province}{letter}·{serial}",), YELLOW, BLACK, 3.14)


def random_plate(rng: random.Random, cn_share: float = 0.45) -> PlateSpec:
    return cn_plate(rng) if rng.random() < cn_share else vn_plate(rng)


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    if not Path(path).exists():
        raise FileNotFoundError(
            f"font {path} is missing (install fonts-dejavu / fonts-wqy-microhei)"
        )
    return ImageFont.truetype(path, size)


def _line_image(line: str, font_path: str, ink: tuple[int, int, int]) -> Image.Image:
    """One line of text, tightly cropped, black on transparent, drawn large."""
    font = _font(font_path, 96)
    cjk = _font(CJK_FONT, 96)
    parts = [(ch, cjk if ord(ch) > 0x7F and ch != "·" else font) for ch in line]
    widths = [int(f.getlength(ch)) + 4 for ch, f in parts]
    canvas = Image.new("RGBA", (sum(widths) + 20, 140), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    x = 10
    for (ch, f), w in zip(parts, widths, strict=True):
        draw.text((x, 10), ch, font=f, fill=(*ink, 255))
        x += w
    box = canvas.getbbox()
    return canvas.crop(box) if box else canvas


def render_plate(spec: PlateSpec, rng: random.Random, height: int = 96) -> np.ndarray:
    """The plate as an RGB uint8 array, `height` pixels tall, with its border."""
    width = round(height * spec.aspect)
    plate = Image.new("RGB", (width, height), spec.background)
    draw = ImageDraw.Draw(plate)
    border = max(2, height // 28)
    draw.rectangle(
        (border, border, width - 1 - border, height - 1 - border), outline=spec.ink, width=border
    )
    font_path = rng.choice(LATIN_FONTS)
    n = len(spec.lines)
    margin_x = int(width * 0.06)
    margin_y = int(height * (0.13 if n == 1 else 0.09))
    gap = int(height * 0.06)
    line_h = (height - 2 * margin_y - gap * (n - 1)) // n
    for i, line in enumerate(spec.lines):
        glyphs = _line_image(line, font_path, spec.ink)
        target_w = width - 2 * margin_x
        if n == 2 and i == 0:
            target_w = int(target_w * rng.uniform(0.55, 0.75))
        target_w = int(target_w * rng.uniform(0.92, 1.0))
        glyphs = glyphs.resize((max(1, target_w), max(1, line_h)), Image.Resampling.BILINEAR)
        x = (width - target_w) // 2
        y = margin_y + i * (line_h + gap)
        plate.paste(glyphs, (x, y), glyphs)
    return np.asarray(plate, dtype=np.uint8)
