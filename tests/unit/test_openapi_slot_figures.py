"""The OpenAPI document's `slot_start` says the slot length, bookable hours, zone, horizon and
cut-off of the gates the running system books, from their gate files: it said Huu Nghi's
(hourly, 06:00 to 21:00 at +07:00, 7 days, 30 min) on every system, and a generated client of
the Chinese side (`borderflow up --side CN`, Youyiguan: 30-min slots 07:00-21:00 at +08:00, 3
days, 60 min) was told slots the API refuses."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from lanes.crossings import Side
from services.api.app import create_app
from services.api.booking_schemas import SLOT_FIGURES
from services.api.gate_enum import slot_figures
from services.gates.loader import configured_gates, default_gates
from services.xborder.corridor import side_gates_dir


def _slot_starts(side: Side) -> list[str]:
    app = create_app(context_factory=lambda: None)
    app.state.context = SimpleNamespace(gates=configured_gates(side_gates_dir(side)))
    schemas: dict[str, Any] = app.openapi()["components"]["schemas"]
    return [
        schemas[name]["properties"]["slot_start"]["description"]
        for name in ("BookingRequest", "RescheduleRequest")
    ]


@pytest.mark.parametrize(
    ("side", "told", "not_told"),
    [
        (
            Side.CN,
            "at youyiguan: 30-min slots within 07:00-21:00 at UTC+08:00, up to 3 days ahead, "
            "until 60 min before the slot",
            "huu-nghi",
        ),
        (
            Side.VN,
            "at huu-nghi: 60-min slots within 06:00-22:00 at UTC+07:00, up to 7 days ahead, "
            "until 30 min before the slot",
            "youyiguan",
        ),
    ],
)
def test_slot_start_tells_the_running_gates_figures(side: Side, told: str, not_told: str) -> None:
    for description in _slot_starts(side) + _slot_starts(side):  # twice: the document is cached
        assert told in description
        assert not_told not in description


def test_the_reference_shows_the_packaged_gates_figures() -> None:
    assert slot_figures(default_gates()) == SLOT_FIGURES
