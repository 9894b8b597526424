"""Gate files: the packaged Huu Nghi gate holds the figures the simulation is tuned on, and
every fault of a file is refused with the file, the dotted path of the field and the reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from pathlib import Path

import pytest

from lanes.errors import DomainError, UnknownGateError
from lanes.model import (
    ALWAYS,
    CameraRole,
    CargoClass,
    CustomsChannel,
    DailyHours,
    Direction,
    Gate,
    LaneKind,
)
from services.gates.loader import (
    GateConfigError,
    configured_gates,
    default_gates,
    get_gate,
    load_gate,
    load_gates,
    parse_gate,
)

PACKAGED = resources.files("services.gates").joinpath("huu-nghi.toml").read_text("utf-8")
MINUTE = timedelta(minutes=1)
GREEN, YELLOW, RED = CustomsChannel.GREEN, CustomsChannel.YELLOW, CustomsChannel.RED
GENERAL, CONTAINER = CargoClass.GENERAL, CargoClass.CONTAINER
PERISHABLE, HAZMAT = CargoClass.PERISHABLE, CargoClass.HAZMAT

# The least a gate file needs, and a fleet: each error test changes one thing in it.
SMALL = """
schema_version = 1
gate_id = "test-gate"
name = "Test gate"
utc_offset = "+07:00"
visit_window_min = 10
approach_time_min = 1
cameras = [
  { camera_id = "t-exp-gate-1", direction = "export", role = "gate_in" },
  { camera_id = "t-imp-gate-1", direction = "import", role = "gate_in" },
]

[[lanes]]
ids = ["T-E1", "T-E2"]
direction = "export"
kind = "standard"
accepts = ["general"]
channels = ["green"]
service = { mean_min = 2 }

[[lanes]]
ids = ["T-I1"]
direction = "import"
kind = "standard"
accepts = ["general"]
channels = ["green"]
service = { mean_min = 2 }
hours = ["06:00-22:00"]

[fleet]
round_trip = { mean_min = 20, sd_min = 3 }
carriers = [
  { carrier_id = "C-1", charging = ["02:00-03:00"] },
  { carrier_id = "C-2", charging = ["23:30-00:30"] },
]

[fleet.yard]
yard_id = "yard"
name = "Yard"
bays = 2
handover = { mean_min = 2 }
capacity = 10
"""


def _changed(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def _refusal(text: str, source: str = "test-gate.toml") -> str:
    """The refusal's message, each `file:N: field: reason` line checked to point N at the
    line of `text` where the field (or the table holding it) is written, and given without
    N (so the tests below read the field and the reason)."""
    with pytest.raises(GateConfigError) as caught:
        parse_gate(text, source=source)
    assert isinstance(caught.value, ValueError)
    written = text.splitlines()
    said = []
    for line in str(caught.value).splitlines():
        placed = re.match(rf"{re.escape(source)}:(\d+): ([^ ]+): ", line)
        if placed is None:
            said.append(line)
            continue
        at = written[int(placed[1]) - 1]
        # a field, its table, or an element of an array (`carriers` -> `{ carrier_id = ...`)
        names = [name.rstrip("s") for name in re.findall(r"[a-z_]+", placed[2])]
        assert any(name in at for name in names), f"{line!r} points at {at!r}"
        said.append(line.replace(f":{placed[1]}:", ":", 1))
    return "\n".join(said)


# --- the packaged gate ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gate() -> Gate:
    return get_gate("huu-nghi")


def test_the_packaged_gate_is_huu_nghi(gate: Gate) -> None:
    assert set(default_gates()) == {"huu-nghi"}
    assert default_gates()["huu-nghi"] is gate  # loaded once
    assert gate.name == "Huu Nghi - Youyiguan"
    assert gate.utc_offset == timedelta(hours=7)
    assert gate.visit_window == 10 * MINUTE
    assert gate.approach_time == MINUTE


@pytest.mark.parametrize(("direction", "d"), [(Direction.EXPORT, "exp"), (Direction.IMPORT, "imp")])
def test_each_direction_has_its_cameras(gate: Gate, direction: Direction, d: str) -> None:
    cameras = {c.camera_id: c.role for c in gate.cameras if c.direction is direction}
    assert cameras == {
        f"hn-{d}-approach-1": CameraRole.APPROACH,
        f"hn-{d}-gate-1": CameraRole.GATE_IN,
        f"hn-{d}-gate-2": CameraRole.GATE_IN,
        f"hn-{d}-lane-1": CameraRole.LANE_ENTRY,
        f"hn-{d}-exit-1": CameraRole.EXIT,
    }
    assert all(c.gate_id == "huu-nghi" for c in gate.cameras)


@pytest.mark.parametrize(
    ("direction", "p"), [(Direction.EXPORT, "HN-E"), (Direction.IMPORT, "HN-I")]
)
def test_each_direction_has_its_twelve_lanes(gate: Gate, direction: Direction, p: str) -> None:
    lanes = gate.lanes_for(direction)
    assert [lane.lane_id for lane in lanes] == [f"{p}{n}" for n in range(1, 13)]
    assert all(lane.gate_id == "huu-nghi" for lane in lanes)
    day = DailyHours(((time(6), time(22)),))
    usual = frozenset({GENERAL, CONTAINER, PERISHABLE})
    expected = (
        6 * [(LaneKind.STANDARD, 2.5, 0.8, usual, {GREEN}, ALWAYS)]
        + 2 * [(LaneKind.SCANNER, 3, 1, usual, {GREEN, YELLOW}, ALWAYS)]
        + 3 * [(LaneKind.INSPECTION, 12, 4, usual, {GREEN, YELLOW, RED}, day)]
        + [(LaneKind.HAZMAT, 6, 2, {HAZMAT, GENERAL, CONTAINER}, {GREEN, YELLOW, RED}, ALWAYS)]
    )
    assert [
        (lane.kind, lane.service_time, lane.service_sd, lane.accepts, lane.channels, lane.hours)
        for lane in lanes
    ] == [
        (kind, mean * MINUTE, sd * MINUTE, accepts, channels, hours)
        for kind, mean, sd, accepts, channels, hours in expected
    ]


def test_the_fleet_and_its_yard(gate: Gate) -> None:
    fleet = gate.fleet
    assert fleet is not None
    assert [c.carrier_id for c in fleet.carriers] == [f"AC-{n}" for n in range(1, 7)]
    assert (fleet.round_trip, fleet.round_trip_sd) == (20 * MINUTE, 3 * MINUTE)
    assert fleet.containers_per_trip == 1
    assert fleet.hours == ALWAYS
    assert fleet.yard is not None
    yard = fleet.yard
    assert (yard.yard_id, yard.name, yard.bays, yard.capacity) == (
        "tan-thanh-yard",
        "Tan Thanh transfer yard",
        4,
        40,
    )
    assert (yard.handover, yard.handover_sd) == (2 * MINUTE, timedelta(seconds=30))


def test_each_carrier_charges_an_hour_per_twelve_and_five_always_run(gate: Gate) -> None:
    assert gate.fleet is not None
    carriers = gate.fleet.carriers
    for carrier in carriers:
        (start, end), (start_2, end_2) = carrier.charging.windows
        assert (end.hour - start.hour, start_2.hour - start.hour, end_2.hour - start_2.hour) == (
            1,
            12,
            1,
        )
    midnight = datetime(2025, 6, 1, tzinfo=UTC) - gate.utc_offset  # 00:00 local
    running = [
        sum(not c.charging.contains(midnight + m * MINUTE, gate.utc_offset) for c in carriers)
        for m in range(24 * 60)
    ]
    assert min(running) == 5
    assert max(running) == 6


def test_the_packaged_file_gives_the_same_gate_each_time(gate: Gate) -> None:
    once = parse_gate(PACKAGED, source="huu-nghi.toml")
    assert once == parse_gate(PACKAGED.encode(), source="huu-nghi.toml") == gate
    assert once is not gate


def test_an_unknown_gate_is_a_domain_error() -> None:
    with pytest.raises(UnknownGateError, match="mong-cai") as raised:
        get_gate("mong-cai")
    assert isinstance(raised.value, DomainError)
    assert raised.value.known == ("huu-nghi",)


def test_the_gates_are_read_only() -> None:
    gates = default_gates()
    with pytest.raises(TypeError):
        gates["x"] = get_gate("huu-nghi")  # type: ignore[index]


# --- open hours ----------------------------------------------------------------------------


def test_hours_across_midnight_in_local_time() -> None:
    night = DailyHours(((time(22), time(6)),))
    offset = timedelta(hours=7)

    def local(hour: int, minute: int = 0) -> datetime:  # that local time, as UTC
        return datetime(2025, 6, 1, hour, minute, tzinfo=UTC) - offset

    assert night.contains(local(22), offset)
    assert night.contains(local(23, 59), offset)
    assert night.contains(local(0), offset)
    assert night.contains(local(5, 59), offset)
    assert not night.contains(local(6), offset)  # the end is not in the window
    assert not night.contains(local(21, 59), offset)
    assert ALWAYS.contains(local(3), offset)


def test_a_window_may_end_at_24_00_and_the_whole_day_is_always() -> None:
    text = _changed(SMALL, '"06:00-22:00"', '"22:00-24:00", "00:00-01:00"')
    hours = parse_gate(text, source="t.toml").lanes[2].hours
    assert hours == DailyHours(((time(22), time(0)), (time(0), time(1))))
    whole_day = _changed(SMALL, '"06:00-22:00"', '"00:00-24:00"')
    assert parse_gate(whole_day, source="t.toml").lanes[2].hours == ALWAYS


# --- errors --------------------------------------------------------------------------------


def test_a_bad_duration_names_the_file_and_the_field() -> None:
    text = _changed(PACKAGED, "mean_min = 6,", "mean_min = -6,")
    assert _refusal(text, "huu-nghi.toml") == (
        "huu-nghi.toml: lanes[3].service.mean_min: Input should be greater than 0"
    )


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (
            "mean_min = 2 }\n\n[[lanes]]",
            'mean_min = "2" }\n\n[[lanes]]',
            "lanes[0].service.mean_min: Input should be a valid number",
        ),
        (
            "sd_min = 3",
            "sd_min = -3",
            "fleet.round_trip.sd_min: Input should be greater than or equal to 0",
        ),
        (
            "{ mean_min = 2 }\ncapacity",
            '{ distribution = "normal", mean_min = 2 }\ncapacity',
            "fleet.yard.handover.distribution: Input should be 'lognormal'",
        ),
        (
            'kind = "standard"',
            'kind = "xray"',
            "lanes[0].kind: Input should be 'standard', 'scanner', 'inspection' or 'hazmat'",
        ),
        (
            'accepts = ["general"]',
            'accepts = ["general", "livestock"]',
            "lanes[0].accepts[1]: Input should be 'general', 'container', 'perishable' or 'hazmat'",
        ),
        (
            'accepts = ["general"]',
            'accepts = ["general", "general"]',
            "lanes[0].accepts: 'general' is listed twice",
        ),
        (
            'channels = ["green"]',
            'channels = ["green", "blue"]',
            "lanes[0].channels[1]: Input should be 'green', 'yellow' or 'red'",
        ),
        (
            '"T-I1"',
            '"T-E2"',
            "lanes[1].ids[0]: duplicate lane id 'T-E2' (first at lanes[0].ids[1])",
        ),
        (
            '"t-imp-gate-1", direction',
            '"t-exp-gate-1", direction',
            "cameras[1].camera_id: duplicate camera id 't-exp-gate-1' (first at "
            "cameras[0].camera_id)",
        ),
        (
            '{ carrier_id = "C-2",',
            '{ carrier_id = "C-1",',
            "fleet.carriers[1].carrier_id: duplicate carrier id 'C-1' (first at "
            "fleet.carriers[0].carrier_id)",
        ),
        (
            '"06:00-22:00"',
            '"6:00-22:00"',
            "lanes[1].hours[0]: '6:00-22:00' is not a window 'HH:MM-HH:MM' (e.g. '06:00-22:00')",
        ),
        (
            '"06:00-22:00"',
            '"06:00-25:00"',
            "lanes[1].hours[0]: 25:00 is not a time of day (00:00-23:59; 24:00 as an end)",
        ),
        (
            '"06:00-22:00"',
            '"06:00-06:00"',
            "lanes[1].hours[0]: '06:00-06:00' is empty; write '00:00-24:00' for the whole day",
        ),
        (
            '["02:00-03:00"]',
            '["2am"]',
            "fleet.carriers[0].charging[0]: '2am' is not a window 'HH:MM-HH:MM' "
            "(e.g. '06:00-22:00')",
        ),
        (
            ', charging = ["02:00-03:00"]',
            "",
            "fleet.carriers[0].charging: Field required",
        ),
        (
            '["02:00-03:00"]',
            '["00:00-24:00"]',
            "fleet.carriers[0].charging[0]: a carrier cannot be on charge all day",
        ),
        (
            'utc_offset = "+07:00"',
            'utc_offset = "UTC+7"',
            "utc_offset: 'UTC+7' is not a UTC offset '+HH:MM' (e.g. '+07:00')",
        ),
        (
            'role = "gate_in" },\n]',
            'role = "gate_out" },\n]',
            "cameras[1].role: Input should be 'approach', 'gate_in', 'lane_entry' or 'exit'",
        ),
        (
            'direction = "import", role',
            'direction = "inbound", role',
            "cameras[1].direction: Input should be 'export' or 'import'",
        ),
        (
            "bays = 2",
            "bays = 2.5",
            "fleet.yard.bays: Input should be a valid integer",
        ),
        (
            'kind = "standard"',
            'kind = "standard"\ncolour = "red"',
            "lanes[0].colour: Extra inputs are not permitted",
        ),
        ("schema_version = 1", "schema_version = 2", "schema_version: Input should be 1"),
        ('name = "Test gate"\n', "", "name: Field required"),
    ],
)
def test_each_fault_names_the_file_the_field_and_the_reason(old: str, new: str, error: str) -> None:
    assert _refusal(_changed(SMALL, old, new)) == f"test-gate.toml: {error}"


def test_a_fleet_needs_its_yard() -> None:
    text = SMALL[: SMALL.index("[fleet.yard]")]
    assert _refusal(text) == "test-gate.toml: fleet.yard: Field required"
    assert parse_gate(SMALL[: SMALL.index("[fleet]")], source="t.toml").fleet is None


def test_each_direction_needs_a_lane_for_cleared_general_cargo() -> None:
    import_lane = 'channels = ["green"]\nservice = { mean_min = 2 }\nhours'  # only it has hours
    text = _changed(SMALL, import_lane, import_lane.replace("green", "yellow"))
    assert _refusal(text) == (
        "test-gate.toml: lanes: no import lane accepts 'general' cargo on the 'green' channel: "
        "a truck cleared on its documents would have nowhere to go"
    )
    hazmat_only = _changed(SMALL, 'accepts = ["general"]', 'accepts = ["hazmat"]')
    assert "lanes: no export lane accepts 'general' cargo" in _refusal(hazmat_only)


def test_each_direction_needs_a_gate_in_camera() -> None:
    text = _changed(
        SMALL, 'direction = "import", role = "gate_in"', 'direction = "import", role = "exit"'
    )
    assert _refusal(text) == "test-gate.toml: cameras: no gate_in camera for import: none is seen"


def test_a_one_way_gate_is_refused_in_one_line_that_says_why() -> None:
    """An analyst's import-only crossing was told 'cameras: no gate_in camera for export: none
    is seen' and 'lanes: no export lane accepts ...', as if a camera had been forgotten."""
    camera = '  { camera_id = "t-exp-gate-1", direction = "export", role = "gate_in" },\n'
    lanes = SMALL[SMALL.index("[[lanes]]") : SMALL.index("[[lanes]]", SMALL.index("[[lanes]]") + 1)]
    text = _changed(_changed(SMALL, camera, ""), lanes, "")
    assert _refusal(text) == (
        "test-gate.toml: lanes: no export camera and no export lane: a gate serves both "
        "directions, export and import (a one-way crossing is not supported: give export a "
        "gate_in camera and a lane for general cargo on the green channel)"
    )


def test_a_hazmat_lane_takes_hazmat_cargo() -> None:
    text = _changed(SMALL, 'kind = "standard"', 'kind = "hazmat"')
    assert (
        _refusal(text)
        == "test-gate.toml: lanes[0].accepts: a hazmat lane must accept 'hazmat' cargo"
    )


def test_every_fault_is_named_one_line_each() -> None:
    text = _changed(_changed(SMALL, "bays = 2", "bays = 0"), 'kind = "standard"', 'kind = "x"')
    lines = _refusal(text).splitlines()
    assert lines[0].startswith("test-gate.toml: lanes[0].kind: ")
    assert lines[1] == "test-gate.toml: fleet.yard.bays: Input should be greater than 0"
    assert len(lines) == 2


def test_invalid_toml_is_refused_with_its_line() -> None:
    message = _refusal(SMALL.replace("bays = 2", "bays = "))
    assert message.startswith("test-gate.toml: invalid TOML: ")
    assert "line" in message


def test_files_on_disk(tmp_path: Path) -> None:
    (tmp_path / "small.toml").write_text(SMALL, encoding="utf-8")
    (tmp_path / "huu-nghi.toml").write_text(PACKAGED, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a gate", encoding="utf-8")
    assert load_gate(tmp_path / "small.toml").gate_id == "test-gate"
    gates = configured_gates(tmp_path)
    assert sorted(gates) == ["huu-nghi", "test-gate"]
    assert gates["huu-nghi"] == get_gate("huu-nghi")
    assert get_gate("test-gate", gates).name == "Test gate"
    assert configured_gates(None) is default_gates()

    (tmp_path / "twin.toml").write_text(SMALL, encoding="utf-8")
    with pytest.raises(GateConfigError) as twin:
        load_gates([tmp_path / "small.toml", tmp_path / "twin.toml"])
    assert str(twin.value) == "twin.toml: gate_id: 'test-gate' is already the gate of small.toml"

    with pytest.raises(GateConfigError, match=r"^absent\.toml: cannot read "):
        load_gate(tmp_path / "absent.toml")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GateConfigError, match=r"no \*\.toml gate file"):
        configured_gates(empty)
    with pytest.raises(GateConfigError, match="not a folder"):
        configured_gates(tmp_path / "nowhere")


def test_a_carrier_charges_only_in_its_windows() -> None:
    fleet = parse_gate(SMALL, source="t.toml").fleet
    assert fleet is not None
    night = fleet.carriers[1].charging  # 23:30-00:30
    offset = timedelta(hours=7)
    at_local = datetime(2025, 6, 1, 0, 15, tzinfo=UTC) - offset
    assert night.contains(at_local, offset)
    assert not night.contains(at_local + timedelta(minutes=15), offset)
    assert night.contains(at_local - timedelta(minutes=45), offset)  # 23:30


# --- booking rules ([booking]) --------------------------------------------------------------

BOOKING = """
[booking]
slot_min = 30
capacity = { export = 12, import = 8 }
perishable_share = 0.25
horizon_days = 3
cutoff_min = 15
grace_min = 45
hours = ["07:00-19:00"]

[[booking.overrides]]
hours = ["12:00-13:00"]
capacity = { import = 4 }
"""


def test_the_packaged_gate_takes_hourly_bookings(gate: Gate) -> None:
    rules = gate.booking
    assert rules is not None
    assert rules.slot_length == timedelta(hours=1)
    assert (rules.export_per_slot, rules.import_per_slot) == (60, 40)
    assert rules.perishable_share == 0.3
    assert rules.horizon == timedelta(days=7)
    assert rules.cutoff == timedelta(minutes=30)
    assert rules.grace == timedelta(minutes=60)
    assert rules.hours.windows == ((time(6), time(22)),)


def test_a_gate_without_booking_takes_none() -> None:
    assert parse_gate(SMALL, source="t.toml").booking is None


def test_booking_rules_from_the_file() -> None:
    rules = parse_gate(SMALL + BOOKING, source="t.toml").booking
    assert rules is not None
    assert rules.slot_length == timedelta(minutes=30)
    assert (rules.export_per_slot, rules.import_per_slot) == (12, 8)
    assert (rules.horizon, rules.cutoff, rules.grace) == (
        timedelta(days=3),
        timedelta(minutes=15),
        timedelta(minutes=45),
    )
    [override] = rules.overrides
    assert (override.export, override.import_) == (None, 4)
    assert override.hours.windows == ((time(12), time(13)),)


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("slot_min = 30", "slot_min = 7", "booking.slot_min: 7 min does not divide a day"),
        ("slot_min = 30", "slot_min = 0", "booking.slot_min: Input should be greater than 0"),
        (
            "export = 12, import = 8",
            "export = -1, import = 8",
            "booking.capacity.export: Input should be greater than or equal to 0",
        ),
        (
            "export = 12, import = 8",
            "export = 12",
            "booking.capacity.import: Field required",
        ),
        (
            "perishable_share = 0.25",
            "perishable_share = 1.5",
            "booking.perishable_share: Input should be less than or equal to 1",
        ),
        (
            'hours = ["07:00-19:00"]',
            'hours = ["07:15-19:00"]',
            "booking.hours[0]: 07:15 is not a slot boundary (30-min slots)",
        ),
        (
            'hours = ["12:00-13:00"]',
            'hours = ["12:00-13:10"]',
            "booking.overrides[0].hours[0]: 13:10 is not a slot boundary (30-min slots)",
        ),
        ("cutoff_min = 15", "cutoff_min = 15\nwalk_ins = true", "booking.walk_ins: Extra inputs"),
    ],
)
def test_each_booking_fault_is_named(old: str, new: str, error: str) -> None:
    assert _refusal(_changed(SMALL + BOOKING, old, new)).startswith(f"test-gate.toml: {error}")


def test_the_yard_id_is_not_a_lane_id() -> None:
    """A lane event's `lane_id` names a lane or the yard, so one id for both would make the
    yard a lane on the board (found by a stranger's try: the simulation then failed on an
    assertion, a traceback)."""
    text = _changed(SMALL, 'yard_id = "yard"', 'yard_id = "T-E2"')
    assert _refusal(text) == (
        "test-gate.toml: fleet.yard.yard_id: 'T-E2' is also a lane id (lanes[0].ids[1]): "
        "a lane event's lane_id names a lane or the yard"
    )


def test_a_byte_order_mark_is_skipped() -> None:
    """Windows editors save UTF-8 with a byte-order mark, which TOML refuses at line 1,
    column 1, with nothing to see there (found by a stranger's try); skipped, as
    `borderflow manifests import` skips it."""
    gate = parse_gate(b"\xef\xbb\xbf" + SMALL.encode("utf-8"), source="t.toml")
    assert gate.gate_id == "test-gate"


def test_a_byte_that_is_not_utf8_is_named_by_line_and_column() -> None:
    text = _changed(SMALL, 'name = "Test gate"', 'name = "Caf\xe9"').encode("latin-1")
    with pytest.raises(GateConfigError) as caught:
        parse_gate(text, source="test-gate.toml")
    assert str(caught.value) == (
        "test-gate.toml: not UTF-8 text: byte 0xe9 at line 4, column 12: save the file as UTF-8"
    )


def test_two_gates_of_one_system_share_no_camera_and_no_lane(tmp_path: Path) -> None:
    """A read names its camera only, and a lane is stored by its id alone: a second gate
    file copied from the first with a new gate_id was taken, and its cameras' reads and its
    lanes' rows went to one gate or the other (found by a stranger's try)."""
    (tmp_path / "a.toml").write_text(SMALL, encoding="utf-8")
    copy = _changed(SMALL, 'gate_id = "test-gate"', 'gate_id = "other-gate"')
    (tmp_path / "b.toml").write_text(copy, encoding="utf-8")
    with pytest.raises(GateConfigError) as caught:
        configured_gates(tmp_path)
    lines = str(caught.value).splitlines()
    assert lines[0] == (
        "b.toml: cameras[0].camera_id: 't-exp-gate-1' is already a camera of gate 'test-gate' "
        "(a.toml): camera and lane ids are unique across the gates a system runs"
    )
    assert lines[2] == (
        "b.toml: lanes: lane id 'T-E1' is already a lane of gate 'test-gate' (a.toml): camera "
        "and lane ids are unique across the gates a system runs"
    )
    assert len(lines) == 5  # two cameras, three lanes

    renamed = copy.replace('"t-', '"o-').replace('"T-', '"O-')
    (tmp_path / "b.toml").write_text(renamed, encoding="utf-8")
    assert sorted(configured_gates(tmp_path)) == ["other-gate", "test-gate"]


def test_a_carrier_on_charge_all_day_in_several_windows_is_refused() -> None:
    """'00:00-24:00' was refused, but windows that cover the day between them were taken,
    and the carrier never ran (found by a stranger's try). Windows that touch: overlapping
    ones are refused as such (test_gate_hours_overlap.py)."""
    text = _changed(SMALL, '["02:00-03:00"]', '["00:00-12:00", "12:00-24:00"]')
    assert _refusal(text) == (
        "test-gate.toml: fleet.carriers[0].charging: a carrier cannot be on charge all day"
    )
    night = _changed(SMALL, '["02:00-03:00"]', '["12:00-00:00", "00:00-12:00"]')
    assert "fleet.carriers[0].charging: a carrier cannot be" in _refusal(night)


def test_a_top_level_key_written_under_a_table_is_named_with_the_table() -> None:
    """TOML puts a key written after a [table] header into that table: `utc_offset` added at
    the end of the file read as 'utc_offset: Field required' and 'fleet.yard.utc_offset:
    Extra inputs are not permitted' (found by a stranger's try)."""
    text = _changed(SMALL, 'utc_offset = "+07:00"\n', "") + 'utc_offset = "+07:00"\n'
    assert _refusal(text) == (
        "test-gate.toml: utc_offset: missing at the top level, found under [fleet.yard]: a "
        "top-level key goes before the file's first [table] or [[array]] header"
    )
