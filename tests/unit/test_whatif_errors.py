"""A what-if file's faults say what would be right (found by an analyst's try, following
docs/replay.md: `accept = [...]` or `open = false` in a `[[lanes]]` entry read 'Extra inputs
are not permitted', naming no field a lane takes; a lane id not in the gate named no lane
that is; and a --policy file that is not there was 'cannot read the what-if file as TOML')."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.gates.loader import GateConfigError, default_gates
from services.replay.whatif import load_what_if

LANE_FIELDS = "accepts, channels, direction, hours, kind, service"


def _refusal(tmp_path: Path, text: str) -> str:
    policy = tmp_path / "whatif.toml"
    policy.write_text(text, encoding="utf-8")
    with pytest.raises(GateConfigError) as caught:
        load_what_if(policy, default_gates(), gates_dir=None)
    return str(caught.value)


@pytest.mark.parametrize("line", ['accept = ["perishable"]', "open = false"])
def test_a_field_no_lane_has_is_named_with_those_a_lane_has(tmp_path: Path, line: str) -> None:
    key = line.split(" ", maxsplit=1)[0]
    said = _refusal(tmp_path, f'[[lanes]]\nids = ["HN-E1"]\n{line}\n')
    # a lane is closed by a [[closures]] entry: the control room's lane event, not a field
    closing = "; to close these lanes, a [[closures]] entry: ids, and from and to"
    assert said == (
        f"whatif.toml: lanes[0]: {key}: no such field of a lane (a [[lanes]] entry sets "
        f"ids and any of: {LANE_FIELDS})" + (closing if key == "open" else "")
    )


def test_a_lane_not_in_the_gate_is_named_with_the_gates_lanes(tmp_path: Path) -> None:
    said = _refusal(tmp_path, '[[lanes]]\nids = ["HN-E99", "HN-E1"]\naccepts = ["perishable"]\n')
    assert said.startswith(
        "whatif.toml: lanes[0]: ids: no lane ['HN-E99'] in gate huu-nghi (its lanes: HN-E1, "
    )
    assert "HN-I12" in said


def test_a_policy_file_that_is_not_there_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(GateConfigError) as caught:
        load_what_if(tmp_path / "whatif.toml", default_gates(), gates_dir=None)
    assert str(caught.value) == f"whatif.toml: no such file: {tmp_path / 'whatif.toml'}"
