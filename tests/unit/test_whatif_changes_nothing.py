"""A what-if that would change nothing it names is refused, not run as the recorded day
(found by a stranger's try, 2026-12-06: a `[[lanes]]` entry with its `ids` and no field to
change, a `gate` with no `[[lanes]]`, and a `gate` other than the `gate_file`'s own each
ran, "trucks_changed": 0, the option ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.gates.loader import GateConfigError, default_gates
from services.replay.whatif import load_what_if

GATE = Path(__file__).parents[2] / "services/gates/huu-nghi.toml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[lanes]]\nids = ["HN-E1"]\n',
            r"whatif\.toml: lanes\[0\]: changes nothing: give the fields these lanes take",
        ),
        (
            '[[lanes]]\nids = ["HN-E1"]\naccepts = ["perishable"]\n[[lanes]]\nids = ["HN-E2"]\n',
            r"whatif\.toml: lanes\[1\]: changes nothing",
        ),
        ('gate = "huu-nghi"\n', r"whatif\.toml: gate: names the gate whose \[\[lanes\]\] change"),
        (
            'policy = "orchestrated"\ngate = "huu-nghi"\n',
            r"whatif\.toml: gate: names the gate whose \[\[lanes\]\] change",
        ),
    ],
)
def test_a_what_if_that_changes_nothing_it_names_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    policy = tmp_path / "whatif.toml"
    policy.write_text(text, encoding="utf-8")
    with pytest.raises(GateConfigError, match=message):
        load_what_if(policy, default_gates(), gates_dir=None)


def test_a_gate_other_than_the_gate_files_own_is_refused(tmp_path: Path) -> None:
    gates = dict(default_gates())
    gates["lang-son-2"] = gates["huu-nghi"]  # a second configured gate
    (tmp_path / "mine.toml").write_text(GATE.read_text(encoding="utf-8"), encoding="utf-8")
    policy = tmp_path / "whatif.toml"
    policy.write_text('gate = "lang-son-2"\ngate_file = "mine.toml"\n', encoding="utf-8")
    with pytest.raises(
        GateConfigError,
        match=r"whatif\.toml: gate: 'lang-son-2', but gate_file mine\.toml is of 'huu-nghi'",
    ):
        load_what_if(policy, gates, gates_dir=None)
    policy.write_text('gate = "huu-nghi"\ngate_file = "mine.toml"\n', encoding="utf-8")
    assert load_what_if(policy, gates, gates_dir=None).gates["huu-nghi"].gate_id == "huu-nghi"
