"""The risk-alert rules' parameters come from the gate file's `[alerts]` table (issue 22):
the packaged gate writes out the defaults, a key left out keeps its default, a bad value is
refused with its dotted path."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

import pytest

from lanes.alerts import AlertRules
from services.gates.loader import GateConfigError, default_gates, parse_gate

HUU_NGHI = timedelta(hours=7)  # the gate file's utc_offset: the explanations' clock
PACKAGED = resources.files("services.gates").joinpath("huu-nghi.toml").read_text("utf-8")


def _without_alerts(text: str) -> str:
    return text.split("\n[alerts]\n", maxsplit=1)[0]


def test_the_packaged_gate_writes_out_the_defaults() -> None:
    assert default_gates()["huu-nghi"].alert_rules == AlertRules(utc_offset=HUU_NGHI)


def test_a_gate_without_the_table_gets_the_defaults_with_its_visit_window() -> None:
    text = _without_alerts(PACKAGED).replace("visit_window_min = 10", "visit_window_min = 7")
    rules = parse_gate(text, source="g.toml").alert_rules
    assert rules == AlertRules(visit_window=timedelta(minutes=7), utc_offset=HUU_NGHI)


def test_a_key_left_out_keeps_its_default() -> None:
    text = (
        _without_alerts(PACKAGED) + "\n[alerts]\nexpected_transit_min = 45\nburst_window_s = 30\n"
    )
    rules = parse_gate(text, source="g.toml").alert_rules
    assert rules == AlertRules(
        expected_transit=timedelta(minutes=45),
        burst_window=timedelta(seconds=30),
        utc_offset=HUU_NGHI,
    )


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("no_show_rate = 1.5", "alerts.no_show_rate"),
        ("expected_transit_min = -1", "alerts.expected_transit_min"),
        ("burst_count = 0", "alerts.burst_count"),
        ('min_reads = "2"', "alerts.min_reads"),
        ("unknown_rule = 1", "alerts.unknown_rule"),
    ],
)
def test_a_bad_parameter_is_named(line: str, where: str) -> None:
    text = _without_alerts(PACKAGED) + f"\n[alerts]\n{line}\n"
    with pytest.raises(GateConfigError) as caught:
        parse_gate(text, source="g.toml")
    assert any(path == where for path, _ in caught.value.problems), caught.value
