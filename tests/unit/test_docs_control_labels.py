"""The buttons docs/control-room.md names by their label ending in "…" (a dialog opens)
are buttons the page draws with that very label. Found by a tester with the docs in hand:
the page said "Out of service" / "Back in service" where the docs promised
"Out of service…" / "Back in service…"."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_dialog_button_the_page_is_said_to_have_is_there() -> None:
    docs = (ROOT / "docs" / "control-room.md").read_text(encoding="utf-8")
    page = "".join(
        (ROOT / "services" / "web" / name).read_text(encoding="utf-8")
        for name in ("control.js", "control.html")
    )
    labels = set(re.findall(r'"([^"\n]+…)"', docs))
    assert labels, "the page names no dialog button"
    missing = sorted(label for label in labels if f'"{label}"' not in page)
    assert not missing, f"docs/control-room.md names buttons the page does not draw: {missing}"
