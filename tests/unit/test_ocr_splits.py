"""The second plate renderer (camera-like OCR crops) and the OCR's evaluation splits
(issue 25): what the renderer draws, and the figures the bench reports for each split."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from lanes.plates import PlateFormat, parse_plate
from plate_recognition.alphabet import ALPHABET, IMG_HEIGHT, IMG_WIDTH, MAX_SLOTS, encode
from plate_recognition.calibrate_ocr import fit
from plate_recognition.ocr_eval import (
    expected_calibration_error,
    real_crops,
    real_plates_dir,
    score,
)
from plate_recognition.photo_crops import (
    GREEN,
    SHIFT_FONTS,
    TRAIN_FONTS,
    draw_plate,
    heavy_province,
    random_spec,
    render_crop,
    sloped,
    tilted,
)
from plate_recognition.views import tempered

SEEDS = range(700_000, 700_040)  # below the training seeds


def test_a_crop_is_the_ocr_input_and_a_function_of_its_seed() -> None:
    first, spec = render_crop(SEEDS[0])
    again, same = render_crop(SEEDS[0])
    assert first.shape == (IMG_HEIGHT, IMG_WIDTH) and first.dtype == np.uint8
    assert np.array_equal(first, again) and spec == same
    assert not np.array_equal(first, render_crop(SEEDS[1])[0])
    assert first.std() > 5  # not a blank image


def test_the_shift_split_draws_fonts_training_never_sees() -> None:
    for fonts in (TRAIN_FONTS, SHIFT_FONTS):
        for path in (*fonts.latin, *fonts.cjk):
            file = path.partition("#")[0]  # `file#n`: a face of a collection
            assert Path(file).is_file(), f"{file} missing: make system-deps"
    assert not set(TRAIN_FONTS.latin) & set(SHIFT_FONTS.latin)
    assert not set(TRAIN_FONTS.cjk) & set(SHIFT_FONTS.cjk)
    image, spec = render_crop(SEEDS[2], SHIFT_FONTS)
    assert image.shape == (IMG_HEIGHT, IMG_WIDTH) and encode(spec.text)


def test_a_flat_topped_three_is_drawn_for_training_only() -> None:
    """GA 36's 3 has a flat top (the fonts' round one reads as 5): a full bar on top, the
    font's lower bowl kept; other characters unchanged."""
    from plate_recognition.photo_crops import _glyph  # noqa: PLC0415 (a private helper)

    font = TRAIN_FONTS.latin[0]
    round_three, flat = _glyph(font, "3", False), _glyph(font, "3", False, True)
    assert flat.shape == round_three.shape
    assert flat[:2].min() == 1.0 and round_three[:2].mean() < 0.9
    h = flat.shape[0]
    assert np.array_equal(flat[round(h * 0.6) :], round_three[round(h * 0.6) :])
    assert np.array_equal(_glyph(font, "5", False, True), _glyph(font, "5", False))


@pytest.mark.parametrize("font", TRAIN_FONTS.latin)
def test_ga36_m_g_and_q_are_drawn_as_the_standard_draws_them(font: str) -> None:
    """GA 36's M stops its V half way down (the fonts' reach the baseline: real plates' M
    was read as H), its G is an O opened at the upper right with a bar to the middle (read
    as 6), its Q an O with a short tail inside (read as 0); other characters unchanged."""
    from plate_recognition.photo_crops import _glyph  # noqa: PLC0415 (a private helper)

    for depth in (1, 2, 3):
        m = _glyph(font, "M", False, False, depth)
        h, w = m.shape
        middle = m[:, w // 2 - 1 : w // 2 + 2].max(axis=1)
        tip = int(np.flatnonzero(middle > 0.5).max())
        assert 0.5 * h <= tip <= 0.8 * h  # the V's point, not the baseline
        assert m[-3:, w // 2].max() == 0.0  # nothing between the stems at the bottom
        assert m[:, :2].min() == 1.0 and m[:, -2:].min() == 1.0  # the two stems, full height
    g, o = _glyph(font, "G", False, False, 1), _glyph(font, "O", False)
    assert g.shape == o.shape
    h, w = g.shape
    assert g[round(h * 0.27) : round(h * 0.35), -2:].max() == 0.0  # open at the upper right
    assert g[round(h * 0.5), round(w * 0.55) :].min() == 1.0  # the bar in to the middle
    q = _glyph(font, "Q", False, False, 1)
    assert q.shape == o.shape and q.sum() > o.sum()  # the O and its tail, inside its box
    assert np.array_equal(_glyph(font, "H", False, False, 2), _glyph(font, "H", False))


def _text_angle(crop: np.ndarray) -> float:
    """The turn (degrees) that lines a crop's characters up with its rows: the one whose
    row profile has the sharpest edges (top and bottom of the characters)."""
    big = cv2.resize(crop, (256, 96), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    best = (-1.0, 0.0)
    for a in np.arange(-25.0, 25.5, 1.0):
        turned = cv2.warpAffine(
            big,
            cv2.getRotationMatrix2D((128, 48), a, 1.0),
            (256, 96),
            borderMode=cv2.BORDER_REPLICATE,
        )
        edges = float((np.diff(turned[:, 64:192].mean(axis=1)) ** 2).sum())
        best = max(best, (edges, float(a)))
    return best[1]


def test_a_tilt_share_turns_that_share_of_the_plates_further() -> None:
    """Photographed plates are often turned more than +-5 degrees: with `tilt_share`, that
    share of the crops is turned 5-14 degrees more, each crop cut around its turned plate;
    without it every crop is as before (its own generator: no other draw of a seed moves)."""
    seeds = range(700_100, 700_400)
    turns = np.degrees([tilted(seed, 0.35) for seed in seeds])
    assert 0.25 < np.mean(turns != 0) < 0.45
    assert all(5 <= abs(t) <= 14 for t in turns if t)
    assert {np.sign(t) for t in turns if t} == {-1.0, 1.0}
    assert not any(tilted(seed, 0.0) for seed in seeds)
    assert np.array_equal(render_crop(SEEDS[3])[0], render_crop(SEEDS[3], tilt_share=0.0)[0])
    turned = [s for s in range(700_100, 700_200) if tilted(s, 1.0)][:24]
    plain = [abs(_text_angle(render_crop(s, cn_share=1.0)[0])) for s in turned]
    tilt = [abs(_text_angle(render_crop(s, cn_share=1.0, tilt_share=1.0)[0])) for s in turned]
    assert np.median(plain) <= 4 and np.median(tilt) >= 6
    assert np.mean(np.array(tilt) > np.array(plain)) > 0.6


def test_a_slope_share_sees_that_share_of_the_plates_from_above_and_the_side() -> None:
    """A camera above and beside the lane, with no roll, slopes a plate's top and bottom while
    its verticals stay upright: with `slope_share`, that share of the crops slope 5-14 degrees
    with upright verticals (a turn, `tilted`, leans them); without it every crop is as before."""
    from plate_recognition.photo_crops import _camera  # noqa: PLC0415 (a private helper)

    seeds = range(700_100, 700_400)
    slopes = [sloped(seed, 0.3) for seed in seeds]
    degrees = np.degrees(np.arctan([k for k, _ in slopes]))
    assert 0.2 < np.mean(degrees != 0) < 0.4
    assert all(5 <= abs(d) <= 14 for d in degrees if d)
    assert {np.sign(d) for d in degrees if d} == {-1.0, 1.0}
    assert all(abs(f) <= 0.1 for _, f in slopes)
    assert not any(k or f for seed in seeds for k, f in [sloped(seed, 0.0)])
    assert np.array_equal(render_crop(SEEDS[3])[0], render_crop(SEEDS[3], slope_share=0.0)[0])
    some = [s for s in range(700_100, 700_200) if sloped(s, 1.0)[0]][:12]
    line = [abs(_text_angle(render_crop(s, cn_share=1.0, slope_share=1.0)[0])) for s in some]
    assert np.median(line) >= 6
    # upright bars on a plate lean as the plain crop's do when sloped, further when turned
    bars = np.full((70, 220, 3), 40.0, np.float32)
    bars[10:60, 10:210:20] = 230.0
    sloped_lean, turned_lean = [], []
    for seed in range(12):
        angle = np.deg2rad(random.Random(seed).uniform(9, 12))
        plain = _lean(_camera(random.Random(seed), bars))
        slope = _lean(_camera(random.Random(seed), bars, slope=(np.tan(angle), 0.0)))
        sloped_lean.append(abs(slope - plain))
        turned_lean.append(abs(_lean(_camera(random.Random(seed), bars, tilt=angle)) - plain))
    assert np.median(sloped_lean) <= 2 and np.median(turned_lean) >= 6


def _ink(plate: np.ndarray) -> tuple[float, float]:
    """(the province cell's ink, the serial's) of a blue one-line plate brought to 94 x 24 as
    the real crops are: the share of pixels over Otsu's threshold in fixed cells."""
    small = cv2.resize(plate.clip(0, 255).astype(np.uint8), (94, 24), interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(
        cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU
    )
    return float(ink[4:20, 3:13].mean()), float(ink[4:20, 34:89].mean())


def test_a_heavy_share_draws_that_share_of_the_chinese_characters_heavy() -> None:
    """On real plates at 94 x 24 pixels the province character is a heavy blob carrying more
    ink than the serial's characters (1.28 times, the real 皖); the CJK fonts here draw it
    thin (0.78 times). With `heavy_share`, that share of the crops draw their Chinese
    characters heavy (strokes 5-17 pixels thicker at the 100-pixel drawing), the Latin ones
    as before; without it every crop is as before (its own generator)."""
    from plate_recognition.photo_crops import _glyph  # noqa: PLC0415 (a private helper)
    from plate_recognition.plates import BLUE, WHITE, PlateSpec  # noqa: PLC0415

    seeds = range(700_100, 700_400)
    heavy = [heavy_province(seed, 0.6) for seed in seeds]
    assert 0.5 < np.mean(np.array(heavy) > 0) < 0.7
    assert {h for h in heavy if h} == {5, 7, 9, 11, 13, 15, 17}
    assert not any(heavy_province(seed, 0.0) for seed in seeds)
    assert np.array_equal(render_crop(SEEDS[3])[0], render_crop(SEEDS[3], heavy_share=0.0)[0])
    for font in TRAIN_FONTS.cjk:
        thin, thick = _glyph(font, "皖", False), _glyph(font, "皖", False, heavy=9)
        assert thick.mean() > thin.mean() * 1.2
    ratios = {}
    for h in (0, 13):
        cells = []
        for seed in range(20):
            spec = PlateSpec("皖A25575", "CN", ("皖A25575",), BLUE, WHITE, 440 / 140)
            cells.append(_ink(draw_plate(spec, random.Random(seed), TRAIN_FONTS, 0.5, h)))
        province, serial = np.mean(cells, axis=0)
        ratios[h] = province / serial
    assert ratios[0] < 1.0 and ratios[13] > 1.2  # lighter than the serial; heavier
    seed = next(s for s in seeds if heavy_province(s, 1.0) >= 13)
    plain = render_crop(seed, cn_share=1.0)
    thick_crop = render_crop(seed, cn_share=1.0, heavy_share=1.0)
    assert plain[1] == thick_crop[1] and not np.array_equal(plain[0], thick_crop[0])


def _lean(crop: np.ndarray) -> float:
    """The lean of a crop's vertical strokes in degrees: the horizontal shear that makes the
    column profile of its middle rows sharpest."""
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    h, w = gray.shape
    best = (-1.0, 0.0)
    for a in np.arange(-24.0, 24.5, 2.0):
        k = np.tan(np.deg2rad(a))
        sheared = cv2.warpAffine(
            gray,
            np.float32([[1, k, -k * h / 2], [0, 1, 0]]),
            (w, h),
            borderMode=cv2.BORDER_REPLICATE,
        )
        edges = float((np.diff(sheared[h // 4 : 3 * h // 4].mean(axis=0)) ** 2).sum())
        best = max(best, (edges, float(a)))
    return best[1]


def test_plates_of_every_kind_are_drawn_with_valid_labels() -> None:
    import random  # noqa: PLC0415

    rng = random.Random(5)
    specs = [random_spec(rng, cn_share=0.6) for _ in range(400)]
    kinds = Counter((s.country, len(s.lines), s.background) for s in specs)
    assert {country for country, _, _ in kinds} == {"VN", "CN"}
    assert {lines for _, lines, _ in kinds} == {1, 2}
    assert any(colour == GREEN for _, _, colour in kinds)
    formats = Counter(parse_plate(s.text).format for s in specs)
    assert PlateFormat.UNKNOWN not in formats
    assert formats[PlateFormat.CN_NEW_ENERGY] > 0
    assert all(len(s.text) <= MAX_SLOTS for s in specs)


def test_expected_calibration_error() -> None:
    confidence = np.array([0.9, 0.9, 0.1, 0.1])
    correct = np.array([1.0, 0.0, 0.0, 0.0])
    # bin 0.9: accuracy 0.5 (gap 0.4); bin 0.1: accuracy 0 (gap 0.1); two each
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.25)
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.0


def _probs(texts: list[str], p: float = 1.0) -> np.ndarray:
    out = np.full((len(texts), MAX_SLOTS, len(ALPHABET)), (1 - p) / (len(ALPHABET) - 1))
    for n, text in enumerate(texts):
        out[n, np.arange(MAX_SLOTS), encode(text)] = p
    return out


def test_score_counts_exact_reads_and_characters() -> None:
    figures = score(_probs(["29H12345", "桂A12345"], p=0.9), ["29H12345", "桂A12346"])
    assert figures["n"] == 2
    assert figures["exact"] == 0.5
    assert figures["char_accuracy"] == pytest.approx((1 + 6 / 7) / 2, abs=1e-4)  # 1 of 7 wrong
    assert figures["mean_confidence"] == pytest.approx(0.9**MAX_SLOTS, abs=1e-3)


def test_real_crops_are_read_as_the_pipeline_prepares_a_detection(tmp_path: Path) -> None:
    rows = []
    for n, text in enumerate(("皖A12345", "苏E8GK31")):
        image = np.full((24, 94, 3), 40 + 100 * n, np.uint8)
        cv2.imwrite(str(tmp_path / f"{n}.jpg"), image)
        rows.append(json.dumps({"file": f"{n}.jpg", "text": text}, ensure_ascii=False))
    (tmp_path / "labels.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    images, texts = real_crops(tmp_path)
    assert images.shape == (2, IMG_HEIGHT, IMG_WIDTH) and images.dtype == np.uint8
    assert texts == ["皖A12345", "苏E8GK31"]
    assert images[0].mean() < images[1].mean()


def test_the_real_plates_folder_can_be_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORDERFLOW_REAL_PLATES", str(tmp_path))
    assert real_plates_dir() == tmp_path


def _one_hot_reads(texts: list[str], sharpness: float, rng: np.random.Generator) -> np.ndarray:
    """Probabilities of an OCR that reads `texts`: softmax of logits favouring each text's
    symbols by `sharpness`, with noise."""
    logits = rng.normal(0.0, 1.0, (len(texts), MAX_SLOTS, len(ALPHABET)))
    for n, text in enumerate(texts):
        for slot, symbol in enumerate(encode(text)):
            logits[n, slot, symbol] += sharpness
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_tempering_the_probabilities_is_dividing_the_logits() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0.0, 3.0, (4, MAX_SLOTS, len(ALPHABET)))
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    for t in (0.5, 1.0, 2.0):
        expected = np.exp(logits / t) / np.exp(logits / t).sum(axis=-1, keepdims=True)
        assert np.allclose(tempered(probs, t), expected, atol=1e-9)


def test_the_fitted_temperature_makes_an_under_confident_reader_calibrated() -> None:
    """A reader right on 60% of plates but with flat probabilities (mean confidence far
    below 0.6) gets a temperature under 1, and its calibration error falls."""
    rng = np.random.default_rng(2)
    truth = [random_spec(random.Random(s), 0.5).text for s in SEEDS]
    texts = [t if n % 5 < 3 else t[::-1] for n, t in enumerate(truth)]  # 60% read right
    probs = _one_hot_reads(texts * 5, 7.0, rng)
    labels = truth * 5
    before = score(probs, labels)
    t = fit(probs, labels)
    after = score(tempered(probs, t), labels)
    assert before["exact"] == after["exact"]  # the reads do not change
    assert before["mean_confidence"] < 0.45 and t < 1.0
    assert after["ece"] < before["ece"] / 2
    assert abs(after["mean_confidence"] - after["exact"]) < 0.1
