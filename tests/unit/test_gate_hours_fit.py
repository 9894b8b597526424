"""Gate files whose hours can never hold the work given them are refused on load, naming the
field: a lane open 5 minutes a day with a 12-minute service took no truck, and every truck of
its kind waited for good (the simulation said "still waiting when the run stopped", as for a
gate that is only busy)."""

from __future__ import annotations

from importlib import resources

import pytest

from services.gates.loader import GateConfigError, parse_gate

PACKAGED = resources.files("services.gates").joinpath("huu-nghi.toml").read_text("utf-8")
# the export inspection bays (lanes[2]): 12 +- 4 min, 06:00-22:00
BAYS = 'mean_min = 12, sd_min = 4 }\nhours = ["06:00-22:00"]'


def _refused(text: str) -> list[tuple[str, str]]:
    with pytest.raises(GateConfigError) as caught:
        parse_gate(text, source="g.toml")
    return list(caught.value.problems)


@pytest.mark.parametrize(
    "hours",
    [
        '["10:00-10:05"]',  # 5 minutes a day
        '["23:59-00:00"]',  # 1 minute, past midnight
        '["10:00-10:10", "14:00-14:10"]',  # two stretches, each too short
    ],
)
def test_a_lane_open_shorter_than_its_service_is_refused(hours: str) -> None:
    text = PACKAGED.replace(BAYS, f"mean_min = 12, sd_min = 4 }}\nhours = {hours}", 1)
    problems = _refused(text)
    assert [where for where, _ in problems] == ["lanes[2].hours"]
    assert "no open stretch is as long as the 12 min mean service" in problems[0][1]


@pytest.mark.parametrize(
    "hours",
    [
        '["10:00-10:12"]',  # exactly the mean
        '["22:00-06:00"]',  # past midnight
        '["23:55-24:00", "00:00-00:10"]',  # two windows that join at midnight: one stretch
        '["10:00-10:06", "10:06-10:12"]',  # two that join: one stretch
    ],
)
def test_hours_that_hold_the_service_load(hours: str) -> None:
    text = PACKAGED.replace(BAYS, f"mean_min = 12, sd_min = 4 }}\nhours = {hours}", 1)
    assert parse_gate(text, source="g.toml").lanes[8].hours.windows


FLEET_HOURS = 'containers_per_trip = 1\nhours = ["00:00-24:00"]'


def test_fleet_hours_shorter_than_a_round_trip_are_refused() -> None:
    text = PACKAGED.replace(FLEET_HOURS, 'containers_per_trip = 1\nhours = ["10:00-10:15"]')
    problems = _refused(text)
    assert [where for where, _ in problems] == ["fleet.hours"]
    assert "the 20 min mean round trip" in problems[0][1]


def test_fleet_hours_shorter_than_a_handover_are_refused() -> None:
    text = PACKAGED.replace(FLEET_HOURS, 'containers_per_trip = 1\nhours = ["10:00-10:01"]')
    where = [w for w, _ in _refused(text)]
    assert where == ["fleet.hours", "fleet.hours"]  # the 2-min handover, the round trip


def test_a_carrier_charging_between_short_runs_is_refused() -> None:
    # on charge all day but for 10-minute gaps: never free for a 20-minute round trip
    charging = ", ".join(f'"{h:02d}:10-{h + 1:02d}:00"' for h in range(23)) + ', "23:10-24:00"'
    text = PACKAGED.replace('charging = ["02:00-03:00", "14:00-15:00"]', f"charging = [{charging}]")
    problems = _refused(text)
    assert [where for where, _ in problems] == ["fleet.carriers[2].charging"]
    assert "this carrier would never run" in problems[0][1]
