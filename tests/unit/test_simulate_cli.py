from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli.main import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_simulate_both_writes_kpis_and_a_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "day"
    args = ["simulate", "--trucks", "150", "--policy", "both", "--seed", "3", "--out", str(out)]

    assert main(args) == 0

    printed = json.loads(capsys.readouterr().out)
    written = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert (printed["gate"], printed["seed"], printed["trucks"]) == ("huu-nghi", 3, 150)
    for policy in ("fifo", "orchestrated"):
        assert printed[policy]["policy"] == policy
        assert printed[policy]["trucks_arrived"] == 150
        assert "series" not in printed[policy]  # the hourly series go to kpis.json only
        assert len(written[policy]["series"]["queue_max"]["export"]) == 24
    assert set(printed["ratios"]["orchestrated_over_fifo"]) >= {"dwell_p95", "dwell_median"}
    assert set(printed["targets"]) == {
        "all_arrived_before_22_done_same_day",
        "median_dwell_max_min",
        "p95_dwell_over_fifo_max",
        "perishable_p95_max_min",
    }
    assert (out / "day.png").read_bytes()[:8] == PNG_SIGNATURE


def test_simulate_one_policy_prints_its_kpis(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--trucks", "60", "--policy", "fifo", "--seed", "2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["policy"] == "fifo"
    assert printed["trucks_arrived"] == 60


def test_an_analyst_simulates_call_forward_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The call-forward day (issue 23: trucks wait in the gate file's waiting areas and
    are called forward) was reachable from Python only (bench/callforward.py); the command
    line offered fifo, orchestrated and both."""
    args = ["simulate", "--trucks", "60", "--policy", "callforward", "--seed", "2"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    kpis = json.loads(capsys.readouterr().out)
    assert kpis["policy"] == "callforward" and kpis["trucks_completed"] == 60
    assert {"road_queue", "call_to_gate_min", "waiting_area", "places_lost"} <= set(kpis)
    assert kpis["call_to_gate_min"]["calls"] == 60
    assert (tmp_path / "day.png").stat().st_size > 0


def test_simulate_an_unknown_gate_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--gate", "mong-cai", "--trucks", "10"]) == 2
    assert "unknown gate 'mong-cai'" in capsys.readouterr().err


def test_an_unknown_gate_says_where_a_person_s_own_gate_files_go(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A stranger who wrote their own gate file and ran `borderflow simulate --gate theirs`
    was told only the packaged gates' ids."""
    assert main(["simulate", "--gate", "mong-cai", "--trucks", "10"]) == 2
    assert capsys.readouterr().err == (
        "borderflow simulate: unknown gate 'mong-cai' (known: huu-nghi); to simulate a gate "
        "of your own, put its file in a folder and set BORDERFLOW_GATES_DIR to that folder\n"
    )


def test_a_day_with_no_truck_meets_no_target_and_misses_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a stranger's try: `simulate --trucks 0 --policy both` said the median and
    perishable dwell targets were met (a median of nothing is 0) and the p95 one missed."""
    assert main(["simulate", "--trucks", "0", "--policy", "both", "--seed", "3"]) == 0
    targets = json.loads(capsys.readouterr().out)["targets"]
    assert {name: t["met"] for name, t in targets.items()} == dict.fromkeys(targets)
    assert {t["why"] for t in targets.values()} == {"no truck completed the day"}


def test_an_analyst_chooses_the_day_simulated(capsys: pytest.CaptureFixture[str]) -> None:
    """The day was always 2025-06-02 (an analyst comparing with a recording of another day,
    a leap day or a new year's eve, could not say which); the same arrivals on any day."""
    args = ["simulate", "--trucks", "40", "--policy", "orchestrated", "--seed", "4"]
    assert main([*args, "--day", "2028-02-29"]) == 0
    leap = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    default = json.loads(capsys.readouterr().out)
    assert (leap["day"], default["day"]) == ("2028-02-29", "2025-06-02")
    assert leap["dwell_min"] == default["dwell_min"]
    assert leap["trucks_completed"] == default["trucks_completed"] == 40
    for wrong, why in [("2027-02-29", "day is out of range"), ("1999-12-31", "between")]:
        with pytest.raises(SystemExit):
            main([*args, "--day", wrong])
        assert why in capsys.readouterr().err
