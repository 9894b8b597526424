"""The OCR's output alphabet: one per slot, both countries' characters, and the pad.

Texts are the normalised form of `lanes.plates.normalise_plate` (no separators): `29H12345`,
`29LD1234`, `桂A12345`, `桂A1234挂`. Vietnamese plates are at most 9 characters, Chinese 8.
"""

from __future__ import annotations

from lanes.plates import CN_PROVINCES, CN_TRAILER_MARK

LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PROVINCES = "".join(sorted(CN_PROVINCES))
PAD = "_"
ALPHABET = LATIN + PROVINCES + CN_TRAILER_MARK + PAD
MAX_SLOTS = 10
IMG_HEIGHT = 48
IMG_WIDTH = 128


def encode(text: str) -> list[int]:
    """Slot indices of a normalised text, padded to `MAX_SLOTS`."""
    if len(text) > MAX_SLOTS:
        raise ValueError(f"plate text {text!r} is longer than {MAX_SLOTS} slots")
    return [ALPHABET.index(ch) for ch in text.ljust(MAX_SLOTS, PAD)]


def plate_config_yaml() -> str:
    """The fast-plate-ocr plate config (YAML) matching the exported OCR model."""
    return (
        f"max_plate_slots: {MAX_SLOTS}\n"
        f'alphabet: "{ALPHABET}"\n'
        f'pad_char: "{PAD}"\n'
        f"img_height: {IMG_HEIGHT}\n"
        f"img_width: {IMG_WIDTH}\n"
        "keep_aspect_ratio: false\n"
        "interpolation: linear\n"
        "image_color_mode: grayscale\n"
    )
