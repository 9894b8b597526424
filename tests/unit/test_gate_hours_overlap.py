"""Hours listed twice in a gate file are refused with the file, the line and the field
(`services/gates/overlaps.py`): until 2026-12-06 `["06:00-14:00", "12:00-20:00"]` loaded as
06:00-20:00 without a word, a window listed twice loaded, and two capacity overrides of one
hour loaded with the second ignored. Windows that only touch load."""

from __future__ import annotations

from datetime import time
from importlib import resources

import pytest

from lanes.model import DailyHours
from services.gates.loader import GateConfigError, parse_gate

PACKAGED = resources.files("services.gates").joinpath("huu-nghi.toml").read_text("utf-8")
INSPECTION = 'hours = ["06:00-22:00"]\n\n[[lanes]]\nids = ["HN-E12"]'  # lanes[2]
BOOKING = 'hours = ["06:00-22:00"]\n\n# ASSUMPTION'
OVERRIDE = "capacity = { export = 40, import = 30 }\n"


def _with(old: str, new: str) -> str:
    assert old in PACKAGED
    return PACKAGED.replace(old, new, 1)


def _lanes(hours: str) -> str:
    return _with(INSPECTION, INSPECTION.replace('["06:00-22:00"]', hours))


def _refusal(text: str) -> str:
    with pytest.raises(GateConfigError) as caught:
        parse_gate(text, source="g.toml")
    return str(caught.value)


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_overlapping_lane_hours_are_refused_naming_file_line_and_field() -> None:
    text = _lanes('["06:00-14:00", "12:00-20:00"]')
    assert _refusal(text) == (
        f"g.toml:{_line(text, '06:00-14:00')}: lanes[2].hours[1]: '12:00-20:00' overlaps "
        "'06:00-14:00' (lanes[2].hours[0]): 12:00 to 14:00 is in both; each minute belongs "
        "in one window: write '06:00-20:00' if that is what was meant"
    )


def test_a_window_listed_twice_is_refused() -> None:
    text = _with(BOOKING, BOOKING.replace('["06:00-22:00"]', '["06:00-22:00", "06:00-22:00"]'))
    twice = '"06:00-22:00", "06:00-22:00"'
    assert _refusal(text) == (
        f"g.toml:{_line(text, twice)}: booking.hours[1]: '06:00-22:00' is "
        "listed twice (first at booking.hours[0]): list it once"
    )


@pytest.mark.parametrize(
    ("hours", "said"),
    [
        # past midnight into the next morning's window
        (
            '["22:00-07:00", "06:00-08:00"]',
            "'06:00-08:00' overlaps '22:00-07:00' (lanes[2].hours[0]): 06:00 to 07:00 is in "
            "both; each minute belongs in one window: write '22:00-08:00' if that is what was "
            "meant",
        ),
        # overlapping at both ends: between them, the whole day
        (
            '["22:00-06:00", "05:00-23:00"]',
            "'05:00-23:00' overlaps '22:00-06:00' (lanes[2].hours[0]): 05:00 to 06:00 and "
            "22:00 to 23:00 are in both; each minute belongs in one window: write "
            "'00:00-24:00' if that is what was meant",
        ),
        # the whole day and a window inside it
        (
            '["00:00-24:00", "10:00-12:00"]',
            "'10:00-12:00' overlaps '00:00-24:00' (lanes[2].hours[0]): 10:00 to 12:00 is in "
            "both; each minute belongs in one window: write '00:00-24:00' if that is what was "
            "meant",
        ),
        # identical windows past midnight
        (
            '["22:00-02:00", "22:00-02:00"]',
            "'22:00-02:00' is listed twice (first at lanes[2].hours[0]): list it once",
        ),
    ],
)
def test_windows_past_midnight_that_overlap_are_refused(hours: str, said: str) -> None:
    assert _refusal(_lanes(hours)).endswith(f"lanes[2].hours[1]: {said}")


def test_windows_that_only_touch_load_as_one_stretch() -> None:
    gate = parse_gate(_lanes('["06:00-14:00", "14:00-22:00"]'), source="g.toml")
    assert gate.lanes[8].hours == DailyHours(((time(6), time(14)), (time(14), time(22))))
    night = parse_gate(_lanes('["22:00-06:00", "06:00-10:00"]'), source="g.toml")
    assert night.lanes[8].hours.windows[1] == (time(6), time(10))


def test_overlapping_charging_and_fleet_hours_are_refused() -> None:
    charging = _with('["02:00-03:00", "14:00-15:00"]', '["02:00-03:00", "02:30-03:30"]')
    assert "fleet.carriers[2].charging[1]: '02:30-03:30' overlaps '02:00-03:00'" in (
        _refusal(charging)
    )
    fleet = _with(
        'containers_per_trip = 1\nhours = ["00:00-24:00"]',
        'containers_per_trip = 1\nhours = ["00:00-12:00", "11:00-24:00"]',
    )
    assert "fleet.hours[1]: '11:00-24:00' overlaps '00:00-12:00'" in _refusal(fleet)


def test_two_overrides_of_one_direction_at_one_hour_are_refused() -> None:
    text = _with(
        OVERRIDE,
        OVERRIDE + '\n[[booking.overrides]]\nhours = ["06:00-08:00"]\ncapacity = { export = 20 }\n',
    )
    assert _refusal(text) == (
        f"g.toml:{_line(text, '06:00-08:00')}: booking.overrides[1].hours: gives export a "
        "capacity at hours booking.overrides[0] gives one too (06:00 to 07:00): the first "
        "would hold and this one be ignored; give each hour one override"
    )
    # import at 06:00 twice (the first override gives both directions): refused too
    other = _with(
        OVERRIDE,
        OVERRIDE + '\n[[booking.overrides]]\nhours = ["06:00-08:00"]\ncapacity = { import = 20 }\n',
    )
    assert "booking.overrides[1].hours: gives import a capacity" in _refusal(other)
    # one direction each: no figure is ignored
    export_only = _with(
        "capacity = { export = 40, import = 30 }",
        'capacity = { export = 40 }\n\n[[booking.overrides]]\nhours = ["06:00-08:00"]\n'
        "capacity = { import = 20 }",
    )
    assert parse_gate(export_only, source="g.toml").booking is not None
