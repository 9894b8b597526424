"""A second renderer, for OCR crops that look like a camera's (issue 25): the plate drawn
character by character in its standard's cells (GA 36 for China, TCVN for Vietnam) with a
font drawn per image from a pool, in the plate's colours (blue, yellow, green new-energy,
white), one or two lines, then seen through a camera: perspective and shear, a crop with
random margins as a detector cuts it (loose, tight or cutting into the plate), a random
background around it, low resolution, blur (focus or motion), lighting (brightness,
contrast, gamma, colour cast, shadow, glare), sensor noise and JPEG. Every choice is random
per image, from the seed. The output is the OCR's input: 48 x 128 grayscale, as
fast-plate-ocr prepares a crop.

`TRAIN_FONTS` are the fonts training may draw; `SHIFT_FONTS` are never trained on and make
the renderer-shift split (other fonts, other seeds). All are Debian packages installed by
`make system-deps` (fonts-dejavu, fonts-liberation, fonts-wqy-microhei, fonts-wqy-zenhei,
fonts-noto-cjk, fonts-droid-fallback); nothing is downloaded.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from plate_recognition.alphabet import IMG_HEIGHT, IMG_WIDTH, PROVINCES
from plate_recognition.plates import (
    BLACK,
    BLUE,
    CN_LETTERS,
    WHITE,
    YELLOW,
    PlateSpec,
    random_plate,
    render_plate,
    vn_plate,
)

_DEJAVU = "/usr/share/fonts/truetype/dejavu/"
_LIBERATION = "/usr/share/fonts/truetype/liberation/"
_WQY = "/usr/share/fonts/truetype/wqy/"
_NOTO = "/usr/share/fonts/opentype/noto/"


@dataclass(frozen=True, slots=True)
class FontSet:
    latin: tuple[str, ...]
    cjk: tuple[str, ...]


TRAIN_FONTS = FontSet(
    latin=(
        _DEJAVU + "DejaVuSans-Bold.ttf",
        _DEJAVU + "DejaVuSansCondensed-Bold.ttf",
        _DEJAVU + "DejaVuSansCondensed.ttf",
        _DEJAVU + "DejaVuSansMono-Bold.ttf",
        _LIBERATION + "LiberationSans-Bold.ttf",
        _LIBERATION + "LiberationSansNarrow-Bold.ttf",
        _LIBERATION + "LiberationSansNarrow-Regular.ttf",
    ),
    cjk=(
        _WQY + "wqy-microhei.ttc",
        _WQY + "wqy-zenhei.ttc",
        _NOTO + "NotoSansCJK-Bold.ttc#2",  # the face of Simplified Chinese
        _NOTO + "NotoSansCJK-Regular.ttc#2",
    ),
)
SHIFT_FONTS = FontSet(
    latin=(
        _LIBERATION + "LiberationMono-Bold.ttf",
        _DEJAVU + "DejaVuSerifCondensed-Bold.ttf",
        _LIBERATION + "LiberationSerif-Bold.ttf",
    ),
    cjk=("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",),
)

GREEN = (60, 190, 90)  # new-energy plates (the other colours are the first renderer's)


@dataclass(frozen=True, slots=True)
class Layout:
    """A plate in millimetres: its size and each line's characters with their cells."""

    width: float
    height: float
    lines: tuple[tuple[str, float, float, float], ...]  # (chars, top, char height, char width)


def _cn_spec(rng: random.Random) -> PlateSpec:
    province = rng.choice(PROVINCES)
    letter = rng.choice(CN_LETTERS)
    roll = rng.random()

    digits = rng.uniform(0.4, 0.9)  # real serials are mostly digits, a few letters

    def serial(n: int) -> str:
        return "".join(
            rng.choice("0123456789") if rng.random() < digits else rng.choice(CN_LETTERS)
            for _ in range(n)
        )

    if roll < 0.45:  # blue small-vehicle plate, one line
        text = f"{province}{letter}{serial(5)}"
        return PlateSpec(text, "CN", (text,), BLUE, WHITE, 440 / 140)
    if roll < 0.6:  # green new-energy plate, 8 characters
        text = f"{province}{letter}{rng.choice('DF')}{serial(5)}"
        return PlateSpec(text, "CN", (text,), GREEN, BLACK, 480 / 140)
    if roll < 0.8:  # yellow large vehicle, one or two lines
        text = f"{province}{letter}{serial(5)}"
        lines = (text,) if rng.random() < 0.5 else (text[:2], text[2:])
        return PlateSpec(text, "CN", lines, YELLOW, BLACK, 440 / (140 if len(lines) == 1 else 220))
    text = f"{province}{letter}{serial(4)}挂"  # yellow trailer
    lines = (text,) if rng.random() < 0.4 else (text[:2], text[2:])
    return PlateSpec(text, "CN", lines, YELLOW, BLACK, 440 / (140 if len(lines) == 1 else 220))


def random_spec(rng: random.Random, cn_share: float = 0.6) -> PlateSpec:
    if rng.random() < cn_share:
        return _cn_spec(rng)
    spec = vn_plate(rng)
    lines = tuple(line.replace("-", "").replace(".", "") for line in spec.lines)
    return PlateSpec(spec.text, "VN", lines, spec.background, spec.ink, spec.aspect)


def _two_lines(
    spec: PlateSpec,
    rng: random.Random,
    size: tuple[float, float],
    top: tuple[float, float, float],
    bottom: tuple[float, float, float],
) -> Layout:
    """Two lines; each `(top, character height, character width)`, the heights jittered."""
    first = (spec.lines[0], top[0], top[1] * rng.uniform(0.9, 1.05), top[2])
    second = (spec.lines[1], bottom[0], bottom[1] * rng.uniform(0.9, 1.05), bottom[2])
    return Layout(size[0], size[1], (first, second))


def _layout(spec: PlateSpec, rng: random.Random) -> Layout:
    """Cells in mm after GA 36 (one line 440 x 140, characters 45 x 90, 12 apart, a dot after
    the second) or TCVN (one line 520 x 110, two lines 330 x 165), with random slack."""
    squeeze = rng.uniform(0.85, 1.08)
    if spec.country == "CN":
        if len(spec.lines) == 2:
            return _two_lines(
                spec, rng, (440, 220), (15, 60, 80 * squeeze), (90, 110, 65 * squeeze)
            )
        n = len(spec.lines[0])
        width = 440 if n <= 7 else 480
        return Layout(
            width, 140, ((spec.lines[0], 25, 90 * rng.uniform(0.88, 1.04), 45 * squeeze),)
        )
    if len(spec.lines) == 2:
        return _two_lines(spec, rng, (330, 165), (12, 65, 38 * squeeze), (88, 65, 38 * squeeze))
    return Layout(520, 110, ((spec.lines[0], 18, 75 * rng.uniform(0.9, 1.05), 38 * squeeze),))


@lru_cache(maxsize=4096)
def _glyph(
    font_path: str,
    ch: str,
    bar_one: bool,
    flat_three: bool = False,
    ga36: int = 0,
    *,
    heavy: int = 0,
) -> np.ndarray:
    """One character as a tight float mask (ink 1.0), drawn large. `ga36` (1-3) draws M, Q and G
    as GA 36 does (`_ga36_m`, `_ga36_q`, `_ga36_g`), the M's V in one of three depths; `heavy`
    (pixels at the 100-pixel drawing) thickens every stroke by that much (`heavy_province`)."""
    if bar_one and ch == "1":  # GA 36's 1 is a plain bar
        mask = np.zeros((100, 40), np.float32)
        mask[:, 10:30] = 1.0
        return mask
    if flat_three and ch == "3":
        return _flat_three(_glyph(font_path, "3", False))
    if ga36 and ch == "M":
        return _ga36_m(_glyph(font_path, "M", False), 0.46 + 0.08 * ga36)
    if ga36 and ch == "Q":
        return _ga36_q(_glyph(font_path, "O", False))
    if ga36 and ch == "G":
        return _ga36_g(_glyph(font_path, "O", False))
    path, _, face = font_path.partition("#")  # `file#n`: the n-th face of a collection
    if not Path(path).exists():
        raise FileNotFoundError(f"font {path} is missing (make system-deps)")
    font = ImageFont.truetype(path, 100, index=int(face or 0))
    canvas = Image.new("L", (160, 160), 0)
    ImageDraw.Draw(canvas).text((20, 10), ch, font=font, fill=255)
    if heavy:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (heavy, heavy))
        canvas = Image.fromarray(cv2.dilate(np.asarray(canvas), kernel))
    box = canvas.getbbox() or (0, 0, 160, 160)
    return np.asarray(canvas.crop(box), dtype=np.float32) / 255.0


def heavy_province(seed: int, share: float) -> int:
    """How much thicker crop `seed`'s Chinese characters are drawn (`_glyph`'s `heavy`: 5-17
    pixels at the 100-pixel drawing) on `share` of the seeds, else 0. On real plates at 94 x 24
    pixels the province character is a heavy blob as tall as the Latin characters, its cell
    carrying more ink than theirs (1.28 times the serial's, on the 285 real 皖; Otsu ink in
    fixed cells), where the CJK fonts here draw it thin and light (0.78 times). Drawn from its
    own generator, like `tilted`, so every other choice of a seed is the same."""
    if share <= 0:
        return 0
    rng = random.Random(f"heavy:{seed}")
    if rng.random() >= share:
        return 0
    return rng.choice((5, 7, 9, 11, 13, 15, 17))


def _flat_three(three: np.ndarray) -> np.ndarray:
    """GA 36's 3, with a flat top: a bar, a diagonal down to the middle, the font's own lower
    bowl (the fonts here all draw a round top, which a model then reads as 5)."""
    h, w = three.shape
    ink = three[h // 2 :].sum(axis=1)  # the stroke's thickness: ink across the bowl's rows
    t = max(2, round(float(np.median(ink[ink > 0])) / 2)) if (ink > 0).any() else max(2, w // 6)
    mask = np.zeros_like(three)
    mask[round(h * 0.45) :] = three[round(h * 0.45) :]
    mask[:t] = 1.0
    cv2.line(mask, (w - 1 - t // 2, t), (round(w * 0.3), round(h * 0.47)), 1.0, t)
    return mask


def _stroke(mask: np.ndarray) -> int:
    """A glyph's stroke thickness in pixels: the first run of ink from the left across its
    lower rows (an M's or an O's left stroke)."""
    h, w = mask.shape
    runs = []
    for row in mask[round(h * 0.6) : round(h * 0.85)] > 0.5:
        ink = np.flatnonzero(row)
        if len(ink):
            gaps = np.flatnonzero(np.diff(ink) > 1)
            runs.append((ink[gaps[0]] if len(gaps) else ink[-1]) - ink[0] + 1)
    return max(2, round(float(np.median(runs)))) if runs else max(2, w // 6)


def _ga36_m(m: np.ndarray, depth: float) -> np.ndarray:
    """GA 36's M: two upright stems and a V between them whose point stops at `depth` of the
    height (about half way), drawn thinner than the stems. The fonts here draw the V to the
    baseline or near it; on real plates, small and blurred, the short V was read as H."""
    h, w = m.shape
    t = _stroke(m)
    mask = np.zeros_like(m)
    mask[:, :t] = 1.0
    mask[:, w - t :] = 1.0
    v = max(2, round(t * 0.8))
    tip = (w // 2, round(h * depth))
    cv2.line(mask, (t // 2, v // 2), tip, 1.0, v)
    cv2.line(mask, (w - 1 - t // 2, v // 2), tip, 1.0, v)
    return mask


def _ga36_q(o: np.ndarray) -> np.ndarray:
    """GA 36's Q: the O with a short tail inside its lower right (the fonts here draw a long
    tail below the bowl; on real plates the Q was read as 0)."""
    h, w = o.shape
    t = _stroke(o)
    mask = o.copy()
    cv2.line(mask, (round(w * 0.55), round(h * 0.68)), (w - 1 - t // 3, h - 1 - t // 3), 1.0, t)
    return mask


def _ga36_g(o: np.ndarray) -> np.ndarray:
    """GA 36's G: the O opened on its upper right and a bar from its right side in to the
    middle at half height (the fonts here draw a spur or a short bar; on real plates, small,
    the G was read as 6)."""
    h, w = o.shape
    t = _stroke(o)
    mask = o.copy()
    mask[round(h * 0.24) : round(h * 0.5) - t // 2, w - round(t * 1.6) :] = 0.0
    mask[round(h * 0.5) - t // 2 : round(h * 0.5) + (t + 1) // 2, round(w * 0.5) :] = 1.0
    return mask


def _jitter(colour: tuple[int, int, int], rng: random.Random, amount: int) -> np.ndarray:
    return np.array(
        [min(255, max(0, c + rng.randint(-amount, amount))) for c in colour], np.float32
    )


def draw_plate(
    spec: PlateSpec, rng: random.Random, fonts: FontSet, scale: float = 0.5, heavy: int = 0
) -> np.ndarray:
    """The plate, RGB float32, `scale` pixels per mm, its characters in their cells; `heavy`
    thickens the Chinese characters' strokes (`heavy_province`)."""
    layout = _layout(spec, rng)
    w, h = round(layout.width * scale), round(layout.height * scale)
    bg = _jitter(spec.background, rng, 30)
    ink = _jitter(spec.ink, rng, 25)
    plate = np.empty((h, w, 3), np.float32)
    plate[:] = bg
    if spec.background == GREEN:  # new-energy plates fade from white to green
        t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        plate[:] = WHITE * (1 - t) + bg * t if rng.random() < 0.8 else bg
    if rng.random() < 0.7:  # the frame line
        inset = max(1, round(rng.uniform(2, 6) * scale))
        cv2.rectangle(
            plate,
            (inset, inset),
            (w - 1 - inset, h - 1 - inset),
            ink.tolist(),
            max(1, round(rng.uniform(1.5, 4) * scale)),
        )
    if rng.random() < 0.5:  # rivets
        for cx in (0.22, 0.78):
            cv2.circle(
                plate,
                (round(cx * w), round(rng.uniform(0.06, 0.12) * h)),
                max(1, round(5 * scale)),
                (bg * 0.6 + 60).tolist(),
                -1,
            )
    latin = rng.choice(fonts.latin)
    cjk = rng.choice(fonts.cjk)
    bar_one = rng.random() < 0.6
    # GA 36 draws a flat-topped 3; half the training plates do (a hash of the text, not a draw
    # of `rng`, so every other choice of a seed, and the held-out fonts' split, is unchanged)
    flat_three = fonts is TRAIN_FONTS and zlib.crc32(spec.text.encode()) % 2 == 0
    # GA 36's M, Q and G on half the training plates, by another hash of the text (2026-12-05)
    ga36 = zlib.crc32(b"ga36:" + spec.text.encode()) % 6
    ga36 = ga36 if fonts is TRAIN_FONTS and spec.country == "CN" and ga36 <= 3 else 0
    bold = rng.choice((0, 0, 1, 2))
    for chars, top, ch_h, ch_w in layout.lines:
        gap = ch_w * rng.uniform(0.18, 0.32)
        dot = spec.country == "CN" and len(layout.lines) == 1
        total = len(chars) * ch_w + (len(chars) - 1) * gap + (ch_w * 0.5 if dot else 0)
        x = (layout.width - total) / 2 + rng.uniform(-0.03, 0.03) * layout.width
        y0 = top + rng.uniform(-4, 4)
        for i, ch in enumerate(chars):
            cn = ord(ch) > 0x7F
            mask = _glyph(
                cjk if cn else latin, ch, bar_one, flat_three, ga36, heavy=heavy if cn else 0
            )
            cw = ch_w * (rng.uniform(0.35, 0.5) if ch == "1" and not bar_one else 1.0)
            cw = min(cw, ch_w * mask.shape[1] / mask.shape[0] * 2.4)  # never wider than the font
            cx = x + ch_w / 2
            gw, gh = max(1, round(cw * scale)), max(1, round(ch_h * scale))
            glyph = cv2.resize(mask, (gw, gh), interpolation=cv2.INTER_AREA)
            if bold:
                glyph = cv2.dilate(glyph, np.ones((bold + 1, bold + 1), np.uint8))
            gx, gy = round((cx - cw / 2) * scale), round((y0 + rng.uniform(-1.5, 1.5)) * scale)
            gx, gy = max(0, min(w - gw, gx)), max(0, min(h - gh, gy))
            region = plate[gy : gy + gh, gx : gx + gw]
            alpha = glyph[..., None]
            region[:] = region * (1 - alpha) + ink * alpha
            x += ch_w + gap
            if dot and i == 1:  # the separator dot, after the province and letter
                cv2.circle(
                    plate,
                    (round((x + ch_w * 0.1) * scale), round((y0 + ch_h / 2) * scale)),
                    max(1, round(5 * scale)),
                    ink.tolist(),
                    -1,
                )
                x += ch_w * 0.5
    return plate


def _background(rng: random.Random, w: int, h: int) -> np.ndarray:
    """What surrounds the plate in a crop: a vehicle's paint, a bumper, shadow, texture."""
    a, b = _jitter((128, 128, 128), rng, 120), _jitter((128, 128, 128), rng, 120)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img = (a * (1 - t) + b * t) * np.ones((1, w, 1), np.float32)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(0, 25), (h, w, 1))
    img = img + noise.astype(np.float32)
    for _ in range(rng.randint(0, 3)):  # bars and edges (bumper, grille, the car's outline)
        y = rng.randint(0, h - 1)
        cv2.line(
            img,
            (0, y),
            (w - 1, y + rng.randint(-5, 5)),
            _jitter((90, 90, 90), rng, 90).tolist(),
            rng.randint(1, 4),
        )
    return img


def _camera(
    rng: random.Random,
    plate: np.ndarray,
    tilt: float = 0.0,
    slope: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Seen by a camera and cut by a detector: a BGR uint8 crop of the plate. `tilt` (radians)
    turns the plate further than the +-5 degrees drawn here; `slope` (the slope of its
    horizontal edges, the right side's height change: `sloped`) sees it from above and the side
    with its verticals upright. With either, the crop is cut around the plate's bounding box,
    as a detector's box is."""
    ph, pw = plate.shape[:2]
    # the crop's margins around the plate, as a fraction of its size (negative: cut into it)
    left, right = rng.uniform(-0.05, 0.1), rng.uniform(-0.05, 0.1)
    top, bottom = rng.uniform(-0.12, 0.2), rng.uniform(-0.12, 0.2)
    out_w = rng.randint(80, 240)
    # perspective, shear and rotation of the plate's corners inside the crop
    shear = rng.uniform(-0.18, 0.18)
    angle = np.deg2rad(rng.uniform(-5, 5)) + tilt
    j = rng.uniform(0, 0.06)
    turned = []  # the corners about the plate's centre
    for sx, sy in ((0, 0), (1, 0), (1, 1), (0, 1)):
        dx = (sx - 0.5) * pw + rng.uniform(-j, j) * pw + shear * (sy - 0.5) * ph
        dy = (sy - 0.5) * ph + rng.uniform(-j, j) * ph
        if slope != (0.0, 0.0):  # seen from above and the side: verticals stay upright
            dy = dy * (1 + slope[1] * (sx - 0.5) * 2) + slope[0] * (sx - 0.5) * pw
        turned.append(
            (dx * np.cos(angle) - dy * np.sin(angle), dx * np.sin(angle) + dy * np.cos(angle))
        )
    if tilt or slope != (0.0, 0.0):  # the box around the turned plate, with the margins
        xs, ys = [x for x, _ in turned], [y for _, y in turned]
        bw, bh = max(xs) - min(xs), max(ys) - min(ys)
        x0, y0 = min(xs) - left * bw, min(ys) - top * bh
        cw, ch = bw * (1 + left + right), bh * (1 + top + bottom)
    else:  # the plate's own box, with the margins (as before 2026-12-05's tilt)
        x0, y0 = -pw / 2 - left * pw, -ph / 2 - top * ph
        cw, ch = pw * (1 + left + right), ph * (1 + top + bottom)
    s = out_w / cw
    out_h = max(12, round(ch * s))
    corners = [((rx - x0) * s, (ry - y0) * s) for rx, ry in turned]
    src = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, np.array(corners, np.float32))
    warped = cv2.warpPerspective(plate, matrix, (out_w, out_h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), matrix, (out_w, out_h))[..., None]
    img = warped * mask + _background(rng, out_w, out_h) * (1 - mask)
    return _degrade(rng, img)


def tilted(seed: int, share: float) -> float:
    """The extra turn (radians) of crop `seed`'s plate: 5-14 degrees either way on `share` of
    the seeds, else 0. Photographed plates are often turned more than the renderer's +-5
    degrees (the camera's roll, a plate seen from the side, a crooked mount): a quarter of
    a public set of real crops is turned 6 degrees or more as the OCR sees it. Drawn from
    its own generator, so that every other choice of a seed is the same with or without it."""
    if share <= 0:
        return 0.0
    rng = random.Random(f"tilt:{seed}")
    if rng.random() >= share:
        return 0.0
    return float(np.deg2rad(rng.choice((-1, 1)) * rng.uniform(5, 14)))


def sloped(seed: int, share: float) -> tuple[float, float]:
    """The perspective of crop `seed`'s plate seen by a camera above and to the side of the
    lane with no roll: (the slope of the plate's horizontal edges, 5-14 degrees either way, as a
    tangent; the height change of the right side against the left, up to 10% either way, the
    nearer side taller) on `share` of the seeds, else (0, 0).
    A camera's roll turns the characters with the plate (`tilted`); a camera's height and
    offset slope the plate's top and bottom while its verticals stay upright (sloped real
    crops have their characters' verticals near upright, not turned with the line). Drawn
    from its own generator, like `tilted`."""
    if share <= 0:
        return (0.0, 0.0)
    rng = random.Random(f"slope:{seed}")
    if rng.random() >= share:
        return (0.0, 0.0)
    k = rng.choice((-1, 1)) * float(np.tan(np.deg2rad(rng.uniform(5, 14))))
    return (k, rng.uniform(-0.1, 0.1))


def _degrade(rng: random.Random, img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    # lighting: brightness, contrast, colour cast, a shadow across, glare
    img = img * rng.uniform(0.5, 1.25) + rng.uniform(-40, 30)
    img = img * np.array([rng.uniform(0.75, 1.25) for _ in range(3)], np.float32)
    if rng.random() < 0.3:
        ramp = np.linspace(rng.uniform(0.4, 1.0), rng.uniform(0.4, 1.0), w, dtype=np.float32)
        img = img * ramp[None, :, None]
    if rng.random() < 0.15:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        gx, gy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.5) * w
        img = img + np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * r * r))[
            ..., None
        ] * rng.uniform(60, 160)
    img = np.clip(img, 0, 255)
    if rng.random() < 0.5:  # gamma
        img = 255.0 * (img / 255.0) ** rng.uniform(0.6, 1.6)
    # resolution: seen small, then brought back to the crop's size
    if rng.random() < 0.6:
        f = rng.uniform(0.5, 0.95)
        small = cv2.resize(
            img, (max(8, round(w * f)), max(6, round(h * f))), interpolation=cv2.INTER_AREA
        )
        img = cv2.resize(
            small, (w, h), interpolation=rng.choice((cv2.INTER_LINEAR, cv2.INTER_CUBIC))
        )
    blur = rng.random()
    if blur < 0.35:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.1))
    elif blur < 0.55:  # motion
        k = rng.randint(3, 5)
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(-30, 30), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    noise = rng.uniform(0, 14) if rng.random() < 0.7 else 0.0
    if noise:
        img = img + np.random.default_rng(rng.randint(0, 2**31)).normal(0, noise, img.shape)
    bgr = np.clip(img, 0, 255).astype(np.uint8)[..., ::-1]
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(15, 95)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def render_crop_bgr(
    seed: int,
    fonts: FontSet = TRAIN_FONTS,
    cn_share: float = 0.6,
    old_share: float = 0.0,
    tilt_share: float = 0.0,
    *,
    slope_share: float = 0.0,
    heavy_share: float = 0.0,
) -> tuple[np.ndarray, PlateSpec]:
    """One seeded crop as the camera gives it (BGR uint8, its own size) and its plate;
    `old_share` of the plates are drawn by the first renderer (`plates.render_plate`),
    `tilt_share` are turned 5-14 degrees more (`tilted`), `slope_share` seen from above and
    the side (`sloped`), `heavy_share` have heavy Chinese characters (`heavy_province`)."""
    rng = random.Random(seed)
    spec = random_spec(rng, cn_share)
    if fonts is TRAIN_FONTS and rng.random() < old_share:  # the first renderer's plate
        spec = random_plate(rng, cn_share)
        plate = render_plate(spec, rng, height=rng.choice((48, 64, 80))).astype(np.float32)
    else:
        scale = rng.uniform(0.35, 0.6)
        plate = draw_plate(spec, rng, fonts, scale, heavy_province(seed, heavy_share))
    return _camera(rng, plate, tilted(seed, tilt_share), sloped(seed, slope_share)), spec


def render_crop(
    seed: int,
    fonts: FontSet = TRAIN_FONTS,
    cn_share: float = 0.6,
    old_share: float = 0.0,
    tilt_share: float = 0.0,
    *,
    slope_share: float = 0.0,
    heavy_share: float = 0.0,
) -> tuple[np.ndarray, PlateSpec]:
    """One seeded crop: (the OCR's input, 48 x 128 uint8 grayscale; the plate)."""
    crop, spec = render_crop_bgr(
        seed,
        fonts,
        cn_share,
        old_share,
        tilt_share,
        slope_share=slope_share,
        heavy_share=heavy_share,
    )
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    return cv2.resize(gray, (IMG_WIDTH, IMG_HEIGHT), interpolation=cv2.INTER_LINEAR), spec
