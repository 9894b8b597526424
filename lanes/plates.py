"""Plate text as cameras and declarations write it -> one canonical form for matching."""

from __future__ import annotations

import unicodedata


def normalise_plate(text: str) -> str:
    """NFKC, upper case, letters and digits only (CJK kept).

    Spaces and separators (`-`, `.`, `·`, `•`, `_`, `/` and any other punctuation) go:
    `桂A·12345` -> `桂A12345`, ` 29h-123.45 ` -> `29H12345`. Text with no letter or digit
    gives "" (an unreadable plate).
    """
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    return "".join(ch for ch in folded if ch.isalnum())
