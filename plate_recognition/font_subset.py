"""Copies of the renderers' fonts cut down to the characters a plate can hold, to take them to
a machine without the Debian font packages (a training machine with an accelerator, which
cannot install them). The outlines of the characters kept are unchanged, so a crop rendered
with the copies is the crop rendered with the originals; each copy keeps its absolute path
under `out` (`out/usr/share/fonts/...`), to be laid over `/` there. Needs fontTools.

    python -m plate_recognition.font_subset --out .fonts
"""

from __future__ import annotations

import argparse
import logging
import string
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

from plate_recognition.alphabet import PROVINCES
from plate_recognition.photo_crops import SHIFT_FONTS, TRAIN_FONTS
from plate_recognition.plates import CJK_FONT, LATIN_FONTS

CHARACTERS = string.ascii_letters + string.digits + string.punctuation + " ·挂" + PROVINCES


def font_files() -> list[Path]:
    """Every font file either renderer may open (a collection's face index dropped)."""
    names = {CJK_FONT, *LATIN_FONTS}
    for fonts in (TRAIN_FONTS, SHIFT_FONTS):
        names.update(fonts.latin + fonts.cjk)
    return sorted({Path(name.partition("#")[0]) for name in names})


def _subset(font: TTFont) -> None:
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    cutter = subset.Subsetter(options)
    cutter.populate(text=CHARACTERS)
    cutter.subset(font)


def write_subsets(out: Path) -> list[tuple[Path, int, int]]:
    """-> (copy, original bytes, copy bytes) for each font file."""
    written = []
    for path in font_files():
        target = out / path.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".ttc":  # every face kept, in order: `file#n` still names face n
            collection = TTCollection(str(path))
            for face in collection.fonts:
                _subset(face)
            collection.save(str(target))
        else:
            font = TTFont(str(path))
            _subset(font)
            font.save(str(target))
        written.append((target, path.stat().st_size, target.stat().st_size))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".fonts"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for target, before, after in write_subsets(args.out):
        logging.getLogger(__name__).info("%s  %s -> %s bytes", target, f"{before:,}", f"{after:,}")


if __name__ == "__main__":
    main()
