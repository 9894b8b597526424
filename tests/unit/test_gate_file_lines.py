"""A refused gate file names the line of each field at fault (`huu-nghi.toml:87:
lanes[3].service.mean_min: ...`), as `borderflow manifests import` names a line: the TOML
reader keeps no positions, and a person had to count `[[lanes]]` headers to find lanes[7]."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from services.gates.lines import field_lines, line_of, parse_path
from services.gates.loader import GateConfigError, load_gate, parse_gate

PACKAGED = resources.files("services.gates").joinpath("huu-nghi.toml").read_text("utf-8")


def _line(text: str, written: str, after: int = 0) -> int:
    """The 1-based number of the first line from `after` holding `written`."""
    lines = text.splitlines()
    return next(n for n in range(after, len(lines)) if written in lines[n]) + 1


def _said(text: str) -> str:
    with pytest.raises(GateConfigError) as caught:
        parse_gate(text, source="huu-nghi.toml")
    return str(caught.value)


def test_a_fault_in_the_fourth_lane_group_names_its_line() -> None:
    text = PACKAGED.replace("mean_min = 6,", "mean_min = -6,", 1)
    line = _line(text, "mean_min = -6,")
    assert _said(text) == (
        f"huu-nghi.toml:{line}: lanes[3].service.mean_min: Input should be greater than 0"
    )


@pytest.mark.parametrize(
    ("old", "new", "where", "written"),
    [
        # an element of a multi-line array of inline tables
        (
            '"hn-imp-gate-1", direction = "import"',
            '"hn-imp-gate-1", direction = "inbound"',
            "cameras[6].direction",
            '"hn-imp-gate-1"',
        ),
        # a table of a table
        ("bays = 4", "bays = 0", "fleet.yard.bays", "bays = 0"),
        # an array of tables inside a table
        (
            'hours = ["06:00-07:00"]',
            'hours = ["06:00-07:30"]',
            "booking.overrides[0].hours[0]",
            '"06:00-07:30"',
        ),
        # a field left out: the header of its table
        ("slot_min = 60\n", "", "booking.slot_min", "[booking]"),
        # an unknown key
        ("grace_min = 10\n", "grace_min = 10\ngrace = 3\n", "waiting_areas[0].grace", "grace = 3"),
    ],
)
def test_each_fault_names_the_line_of_its_field(
    old: str, new: str, where: str, written: str
) -> None:
    assert PACKAGED.count(old) >= 1
    text = PACKAGED.replace(old, new, 1)
    said = _said(text)
    assert said.startswith(f"huu-nghi.toml:{_line(text, written)}: {where}: "), said


def test_a_key_left_out_of_the_top_level_names_no_line() -> None:
    text = PACKAGED.replace('name = "Huu Nghi - Youyiguan"\n', "")
    assert _said(text) == "huu-nghi.toml: name: Field required"


def test_a_file_read_from_disk_names_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(PACKAGED.replace('kind = "scanner"', 'kind = "scaner"', 1), "utf-8")
    with pytest.raises(GateConfigError) as caught:
        load_gate(path)
    line = _line(path.read_text("utf-8"), 'kind = "scaner"')
    assert str(caught.value).startswith(f"mine.toml:{line}: lanes[1].kind: Input should be")


def test_the_scan_counts_arrays_of_tables_and_skips_comments_and_strings() -> None:
    text = (
        '# [[lanes]] in a comment\nname = "a [[b]] c"  # x = 1\n'
        "[[lanes]]\nids = [\n  \"A\",\n]\n[[lanes]]\nkind = 'x # y'\n"
        '[fleet]\ncarriers = [\n  { carrier_id = "C" },\n  { carrier_id = "D" },\n]\n'
        "[fleet.yard]\nbays = 1\n"
    )
    lines = field_lines(text)
    assert lines[("name",)] == 2
    assert lines[("lanes", 0)] == 3 and lines[("lanes", 0, "ids")] == 4
    assert lines[("lanes", 1)] == 7 and lines[("lanes", 1, "kind")] == 8
    assert lines[("fleet", "carriers", 1)] == 12
    assert lines[("fleet", "yard", "bays")] == 15
    assert line_of(text, "lanes[1].service.mean_min") == 7
    assert line_of(text, "") is None
    assert parse_path("fleet.carriers[1].charging[0]") == ("fleet", "carriers", 1, "charging", 0)
