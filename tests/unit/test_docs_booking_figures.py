"""docs/http-api.md gives the booking figures (slot length, bookable hours, cut-off,
horizon, zone) of every packaged gate that takes bookings, as its gate file sets them: the
page gave Huu Nghi's alone (hour grid, 06:00-22:00, 30 minutes, 7 days) as the API's, and a
firm booking at Youyiguan (`borderflow up --side CN`: 30-min slots, 07:00-21:00 at
+08:00, a 60-minute cut-off, 3 days) was refused where the page said it could book."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATE_FILES = sorted((ROOT / "services" / "gates").rglob("*.toml"))


@pytest.mark.parametrize("path", GATE_FILES, ids=lambda p: p.stem)
def test_the_page_gives_each_gates_booking_figures(path: Path) -> None:
    gate = tomllib.loads(path.read_text("utf-8"))
    booking = gate.get("booking")
    if booking is None:
        pytest.skip(f"{path.name} takes no bookings")
    page = re.sub(r"\s+", " ", (ROOT / "docs" / "http-api.md").read_text("utf-8"))
    told = re.search(rf"\(`{re.escape(gate['gate_id'])}`[^)]*\)", page)
    assert told, f"docs/http-api.md: no (`{gate['gate_id']}` ...) giving its booking figures"
    text = told.group(0)
    for figure in (
        f"{booking['slot_min']}-min slots",
        ", ".join(booking["hours"]),
        f"{booking['cutoff_min']}-minute cut-off",
        f"{booking['horizon_days']} days ahead",
        f"UTC{gate['utc_offset']}",
    ):
        assert figure in text, f"docs/http-api.md, {gate['gate_id']}: {figure!r} not in {text!r}"
