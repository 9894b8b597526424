"""`borderflow up --start`: the demo's simulated traffic on another day than today (found by
stranger-testers on other dates, 2026-12-06: only `simulate --day`, which runs no services,
took a day; `up` always started its traffic at the wall clock's now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.cli.main import _parser as build_parser
from services.cli.supervisor import traffic_start
from services.gates.loader import default_gates

GATE = default_gates()["huu-nghi"]  # UTC+07:00
NOW = datetime(2026, 12, 6, 22, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, datetime(2026, 12, 6, 22, 0, tzinfo=UTC)),  # the wall clock, to the second
        ("2025-09-02", datetime(2025, 9, 1, 17, 0, tzinfo=UTC)),  # its 00:00 at the gate
        ("2027-02-05T06:30", datetime(2027, 2, 4, 23, 30, tzinfo=UTC)),  # a day coming
        ("2025-12-31T23:30+08:00", datetime(2025, 12, 31, 15, 30, tzinfo=UTC)),  # an offset
    ],
)
def test_up_start_is_the_gates_local_time_unless_an_offset_is_given(
    given: str | None, expected: datetime
) -> None:
    option = ["--start", given] if given else []
    args = build_parser().parse_args(["up", *option])
    # simulate-traffic takes the same --start
    assert build_parser().parse_args(["simulate-traffic", *option]).start == args.start
    start = traffic_start(GATE, args.start, now=NOW)
    assert start == expected
    assert start.tzinfo is not None and start.utcoffset() == timedelta(0)
    if given is not None and "+" not in given:  # the gate's local day and time as written
        local = start.astimezone(timezone(GATE.utc_offset)).isoformat()
        assert local.startswith(given if "T" in given else given + "T00:00")


@pytest.mark.parametrize("bad", ["yesterday", "2025-13-01", "1999-12-31", "2025-09-02 25:00"])
def test_up_start_refuses_what_is_not_a_time_in_range(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["up", "--start", bad])
    assert exit_.value.code == 2
    assert "--start" in capsys.readouterr().err
