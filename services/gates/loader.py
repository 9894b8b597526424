"""Gates from config files: one TOML file a gate, checked on load, turned into `lanes.model`.

The default gate, Huu Nghi - Youyiguan, ships as `services/gates/huu-nghi.toml`; the file
says where its figures come from and which are assumptions. A bad file is refused with
every fault named by file, line, dotted path and reason, e.g.
`huu-nghi.toml:87: lanes[3].service.mean_min: Input should be greater than 0` (the line of
the field, or of the table holding it: `services/gates/lines.py`); hours that never
hold their work (a lane open no stretch as long as its mean service) too
(`services/gates/fits.py`), and hours listed twice: a window overlapping or repeating
another of its list, two capacity overrides of one direction at one hour
(`services/gates/overlaps.py`).

A file holds (durations in minutes, hours as local "HH:MM-HH:MM" windows):

    schema_version = 1
    gate_id = "huu-nghi"
    name = "Huu Nghi - Youyiguan"
    utc_offset = "+07:00"
    visit_window_min = 10
    approach_time_min = 1
    cameras = [{ camera_id = "hn-exp-gate-1", direction = "export", role = "gate_in" }]

    [[lanes]]                      # a group of lanes of one kind and direction
    ids = ["HN-E1", "HN-E2"]
    direction = "export"
    kind = "standard"              # standard, scanner, inspection, hazmat
    accepts = ["general", "container", "perishable"]
    channels = ["green"]           # customs channels: green, yellow, red
    service = { distribution = "lognormal", mean_min = 1.5, sd_min = 0.5 }
    hours = ["00:00-24:00"]        # optional: always open when left out

    [fleet]                        # optional: autonomous carriers and their yard
    round_trip = { mean_min = 20, sd_min = 3 }
    containers_per_trip = 1
    carriers = [{ carrier_id = "AC-1", charging = ["00:00-01:00", "12:00-13:00"] }]
    [fleet.yard]
    yard_id = "tan-thanh-yard"
    name = "Tan Thanh transfer yard"
    bays = 4
    handover = { mean_min = 2, sd_min = 0.5 }
    capacity = 40

    [booking]                      # optional: crossing slots firms may book
    slot_min = 60                  # slots tile the day from 00:00 local
    capacity = { export = 60, import = 40 }   # trucks a slot
    perishable_share = 0.3         # of each slot, for perishable cargo only
    horizon_days = 7
    cutoff_min = 30                # bookings close this long before a slot starts
    grace_min = 60                 # a truck later than this after its slot loses it
    hours = ["06:00-22:00"]        # the slots that may be booked
    [[booking.overrides]]          # optional: other capacities at some hours
    hours = ["06:00-07:00"]
    capacity = { export = 40, import = 30 }

    [[waiting_areas]]              # optional: trucks wait here until called (issue 23)
    area_id = "hn-exp-wait"
    name = "Export waiting area"
    direction = "export"
    camera_id = "hn-exp-approach-1"   # an approach camera of the same direction
    capacity = 300                 # trucks; more wait on the road
    drive_time_min = 5             # from the area to the gate
    call_lead_min = 0              # call this much before the place is expected free
    grace_min = 10                 # after drive time: recalled once, then the place is lost
    reentry_min = 10               # an area read sooner after the gate read: the truck that left
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from lanes.alerts import AlertRules
from lanes.bookings import BookingRules, CapacityOverride
from lanes.errors import UnknownGateError
from lanes.model import (
    ALWAYS,
    Camera,
    Carrier,
    CarrierFleet,
    DailyHours,
    Gate,
    Lane,
    TransferYard,
    WaitingArea,
)
from services.gates.fits import fit_problems
from services.gates.lines import field_lines, placed
from services.gates.overlaps import overlap_problems
from services.gates.schema import (
    AlertsConfig,
    BookingConfig,
    DurationConfig,
    GateConfig,
    Problem,
    check_gate,
    offset_of,
    window_of,
)

__all__ = [
    "GateConfigError",
    "configured_gates",
    "default_gates",
    "get_gate",
    "load_gate",
    "load_gates",
    "parse_gate",
    "require_default_gate",
    "require_known_gate",
]


class GateConfigError(ValueError):
    """A gate file that cannot be used: `source` (the file's name) and each fault found,
    as (dotted path, reason), with the line the field is written on when known; the
    message has one `file:line: path: reason` line a fault (`file: path: reason` when no
    line is known, e.g. a key left out)."""

    def __init__(
        self, source: str, problems: Sequence[Problem], lines: Sequence[int | None] = ()
    ) -> None:
        self.source = source
        self.problems = tuple(problems)
        self.lines = tuple(lines) or (None,) * len(self.problems)
        said = [
            f"{source}{'' if line is None else f':{line}'}: {where + ': ' if where else ''}{why}"
            for (where, why), line in zip(self.problems, self.lines, strict=True)
        ]
        super().__init__("\n".join(said))

    def placed(self, text: str) -> GateConfigError:
        """The same faults, each with the line of its field in `text` (the file's)."""
        lines = field_lines(text)
        return GateConfigError(
            self.source, self.problems, [placed(lines, where) for where, _ in self.problems]
        )


BOM = "\ufeff"


def parse_gate(text: str | bytes, *, source: str) -> Gate:
    """The gate a TOML document describes; `source` names it in errors (a file name), with
    the line of each field at fault."""
    data = gate_document(text, source=source)
    try:
        return gate_from_data(data, source)
    except GateConfigError as exc:
        raise exc.placed(_decoded(text)) from exc


def _decoded(text: str | bytes) -> str:
    """The text of a document `gate_document` has read (so UTF-8)."""
    return text.decode("utf-8") if isinstance(text, bytes) else text


def gate_document(text: str | bytes, *, source: str) -> dict[str, Any]:
    """The tables of a gate file's text, not yet checked: UTF-8 (a leading byte-order mark,
    which Windows editors write, skipped) and TOML, else GateConfigError naming where."""
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - raw.rfind(b"\n", 0, exc.start)
            reason = (
                f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line}, column "
                f"{column}: save the file as UTF-8"
            )
            raise GateConfigError(source, [("", reason)]) from exc
    try:
        return tomllib.loads(text.removeprefix(BOM))
    except tomllib.TOMLDecodeError as exc:
        raise GateConfigError(source, [("", f"invalid TOML: {exc}")]) from exc


def read_gate_document(path: str | Path) -> dict[str, Any]:
    """`gate_document` of a file; GateConfigError names the file when it cannot be read."""
    path = Path(path)
    return gate_document(_read(path), source=path.name)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GateConfigError(path.name, [("", f"cannot read {path}: {exc.strerror}")]) from exc


def gate_from_data(data: dict[str, Any], source: str) -> Gate:
    """The gate a parsed gate document describes (the gate file's tables as a dict)."""
    try:
        config = GateConfig.model_validate(data)
    except ValidationError as exc:
        raise GateConfigError(source, _problems(exc)) from exc
    problems = check_gate(config) + overlap_problems(config)  # hours listed twice: refused
    if problems:
        raise GateConfigError(source, problems)
    gate = _to_gate(config)
    problems = fit_problems(config, gate)  # hours that never hold their work
    if problems:
        raise GateConfigError(source, problems)
    return gate


def load_gate(path: str | Path) -> Gate:
    """The gate of one TOML file; GateConfigError names the file, and each fault with its
    line."""
    path = Path(path)
    return parse_gate(_read(path), source=path.name)


def load_gates(paths: Iterable[str | Path]) -> Mapping[str, Gate]:
    """The gates of several files, by gate_id (read-only); two files of one gate_id are an
    error."""
    gates: dict[str, Gate] = {}
    origin: dict[str, str] = {}
    for path in paths:
        gate = load_gate(path)
        _add(gates, origin, gate, Path(path).name)
    return MappingProxyType(gates)


@cache
def default_gates() -> Mapping[str, Gate]:
    """The gates shipped with borderflow (`services/gates/*.toml`), by gate_id, read-only;
    loaded once."""
    folder = resources.files("services.gates")
    gates: dict[str, Gate] = {}
    origin: dict[str, str] = {}
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    for file in files:
        _add(gates, origin, parse_gate(file.read_bytes(), source=file.name), file.name)
    if not gates:
        raise GateConfigError("services/gates", [("", "no gate file is packaged")])
    return MappingProxyType(gates)


def configured_gates(gates_dir: Path | None = None) -> Mapping[str, Gate]:
    """The gates to run with: every `*.toml` in `gates_dir` (`BORDERFLOW_GATES_DIR`) in
    place of the packaged ones, or the packaged ones when it is None."""
    if gates_dir is None:
        return default_gates()
    if not Path(gates_dir).is_dir():
        raise GateConfigError(str(gates_dir), [("", "not a folder")])
    files = sorted(Path(gates_dir).glob("*.toml"))
    if not files:
        raise GateConfigError(str(gates_dir), [("", "no *.toml gate file in this folder")])
    return load_gates(files)


def require_default_gate(
    gate_id: str, gates: Mapping[str, Gate], gates_dir: Path | None = None
) -> None:
    """The system's default gate (`BORDERFLOW_GATE_ID`) is one of the gates it runs with
    (`configured_gates(gates_dir)`), checked at start-up: else GateConfigError naming the
    setting (a system on a folder of a person's own gate files ran with a default gate it
    did not have)."""
    try:
        require_known_gate(gate_id, gates)
    except UnknownGateError as exc:
        where = f"in {gates_dir}" if gates_dir is not None else "packaged with borderflow"
        reason = f"{exc}: no gate file {where} has this gate_id"
        raise GateConfigError("BORDERFLOW_GATE_ID", [("", reason)]) from None


def require_known_gate(gate_id: str, known: Collection[str]) -> None:
    """The one check of a gate id: raises UnknownGateError (a DomainError, its one message:
    `unknown gate 'x' (known: a, b)`) unless `gate_id` is among `known`. The edges prefix
    the field at fault (`gate: ...` on HTTP, `gate_id: ...` in a dead letter)."""
    if gate_id not in known:
        raise UnknownGateError(gate_id, tuple(sorted(known)))


def get_gate(gate_id: str, gates: Mapping[str, Gate] | None = None) -> Gate:
    """The gate `gate_id` among `gates` (the packaged ones when None); raises
    UnknownGateError (a DomainError) if there is none."""
    known = default_gates() if gates is None else gates
    require_known_gate(gate_id, known)
    return known[gate_id]


def _add(gates: dict[str, Gate], origin: dict[str, str], gate: Gate, source: str) -> None:
    if gate.gate_id in gates:
        reason = f"{gate.gate_id!r} is already the gate of {origin[gate.gate_id]}"
        raise GateConfigError(source, [("gate_id", reason)])
    problems = _shared_ids(gates, origin, gate)
    if problems:
        raise GateConfigError(source, problems)
    gates[gate.gate_id] = gate
    origin[gate.gate_id] = source


def _shared_ids(gates: Mapping[str, Gate], origin: Mapping[str, str], gate: Gate) -> list[Problem]:
    """A camera or lane id of `gate` that another gate has: a read names its camera only,
    and a lane is stored by its id alone (`lanes` table), so each names one gate."""
    cameras = {c.camera_id: g for g in gates.values() for c in g.cameras}
    lanes = {lane.lane_id: g for g in gates.values() for lane in g.lanes}
    why = "camera and lane ids are unique across the gates a system runs"
    problems: list[Problem] = []
    for i, camera in enumerate(gate.cameras):
        other = cameras.get(camera.camera_id)
        if other is not None:
            reason = (
                f"{camera.camera_id!r} is already a camera of gate {other.gate_id!r} "
                f"({origin[other.gate_id]}): {why}"
            )
            problems.append((f"cameras[{i}].camera_id", reason))
    for lane in gate.lanes:
        other = lanes.get(lane.lane_id)
        if other is not None:
            reason = (
                f"lane id {lane.lane_id!r} is already a lane of gate {other.gate_id!r} "
                f"({origin[other.gate_id]}): {why}"
            )
            problems.append(("lanes", reason))
    return problems


def _problems(exc: ValidationError) -> list[Problem]:
    errors = exc.errors(include_url=False)
    misplaced = _misplaced(errors)
    found = []
    for n, error in enumerate(errors):
        if n in misplaced.values():
            continue  # told with the key it belongs to
        where = _dotted(error["loc"])
        if n in misplaced:
            loc = errors[misplaced[n]]["loc"][:-1]
            table = _dotted(loc)
            table = f"[{table}]" if all(isinstance(p, str) for p in loc) else table
            found.append(
                (
                    where,
                    f"missing at the top level, found under {table}: a top-level key goes "
                    "before the file's first [table] or [[array]] header",
                )
            )
            continue
        if error["type"] == "model_type":  # "... instance of DurationConfig": our class name
            what = _TABLES.get(str(error.get("ctx", {}).get("class_name")), "a table")
            found.append((where, f"{what}, not {error['input']!r}"))
            continue
        found.append((where, str(error["msg"]).removeprefix("Value error, ")))
    return found


# what a nested table of the gate file is, said for a value that is not one
_TABLES = {
    "DurationConfig": "a duration, e.g. { mean_min = 2.5, sd_min = 0.8 } (minutes, lognormal; "
    "sd_min = 0 for a fixed one)",
}


def _dotted(loc: Sequence[int | str]) -> str:
    where = ""
    for part in loc:
        if isinstance(part, int):
            where += f"[{part}]"
        else:
            where += f".{part}" if where else str(part)
    return where


def _misplaced(errors: Sequence[Any]) -> dict[int, int]:
    """A required top-level key missing, and the same key refused as unknown inside a table:
    written after a [table] header, TOML put it in that table. Index of the missing error ->
    index of the unknown one."""
    extra = {
        e["loc"][-1]: n
        for n, e in enumerate(errors)
        if e["type"] == "extra_forbidden" and len(e["loc"]) > 1
    }
    return {
        n: extra[e["loc"][0]]
        for n, e in enumerate(errors)
        if e["type"] == "missing" and len(e["loc"]) == 1 and e["loc"][0] in extra
    }


# --- to the domain -----------------------------------------------------------------------


def _minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def _hours(windows: Sequence[str] | None) -> DailyHours:
    if windows is None:
        return ALWAYS
    parsed = tuple(window_of(w) for w in windows)
    if any(start == end for start, end in parsed):  # "00:00-24:00": the whole day
        return ALWAYS
    return DailyHours(parsed)


def _spread(duration: DurationConfig) -> tuple[timedelta, timedelta]:
    return _minutes(duration.mean_min), _minutes(duration.sd_min)


def _booking(config: BookingConfig | None) -> BookingRules | None:
    if config is None:
        return None
    return BookingRules(
        slot_length=_minutes(config.slot_min),
        export_per_slot=config.capacity.export,
        import_per_slot=config.capacity.import_,
        overrides=tuple(
            CapacityOverride(_hours(o.hours), o.capacity.export, o.capacity.import_)
            for o in config.overrides
        ),
        perishable_share=config.perishable_share,
        horizon=timedelta(days=config.horizon_days),
        cutoff=_minutes(config.cutoff_min),
        grace=_minutes(config.grace_min),
        hours=_hours(config.hours),
    )


# gate file key -> (AlertRules field, unit: None for a plain value)
ALERT_KEYS: dict[str, tuple[str, timedelta | None]] = {
    "min_reads": ("min_reads", None),
    "min_return_min": ("min_return", timedelta(minutes=1)),
    "expected_transit_min": ("expected_transit", timedelta(minutes=1)),
    "transit_margin_min": ("transit_margin", timedelta(minutes=1)),
    "amend_window_min": ("amend_window", timedelta(minutes=1)),
    "weight_tolerance": ("weight_tolerance", None),
    "weight_tolerance_kg": ("weight_tolerance_kg", None),
    "no_show_min_bookings": ("no_show_min_bookings", None),
    "no_show_rate": ("no_show_rate", None),
    "rebook_window_min": ("rebook_window", timedelta(minutes=1)),
    "burst_count": ("burst_count", None),
    "burst_window_s": ("burst_window", timedelta(seconds=1)),
}


def alert_rules_of(
    config: AlertsConfig | None, *, visit_window: timedelta, utc_offset: timedelta
) -> AlertRules:
    """The gate file's `[alerts]` table as `AlertRules`: what it leaves out keeps the
    default; the rules group reads into passes with the gate's own visit window, and name
    times in the gate's local time."""
    given: dict[str, object] = {"visit_window": visit_window, "utc_offset": utc_offset}
    if config is not None:
        for key, value in config.model_dump(exclude_none=True).items():
            name, unit = ALERT_KEYS[key]
            given[name] = value if unit is None else unit * value
    return AlertRules(**given)  # type: ignore[arg-type]


def _to_gate(config: GateConfig) -> Gate:
    gate_id = config.gate_id
    lanes = []
    for group in config.lanes:
        mean, sd = _spread(group.service)
        lanes += [
            Lane(
                lane_id=lane_id,
                gate_id=gate_id,
                direction=group.direction,
                kind=group.kind,
                service_time=mean,
                service_sd=sd,
                accepts=frozenset(group.accepts),
                channels=frozenset(group.channels),
                hours=_hours(group.hours),
            )
            for lane_id in group.ids
        ]
    fleet = None
    if config.fleet is not None:
        f = config.fleet
        yard = f.yard
        handover, handover_sd = _spread(yard.handover)
        round_trip, round_trip_sd = _spread(f.round_trip)
        fleet = CarrierFleet(
            carriers=tuple(
                Carrier(c.carrier_id, DailyHours(tuple(window_of(w) for w in c.charging)))
                for c in f.carriers
            ),
            round_trip=round_trip,
            round_trip_sd=round_trip_sd,
            containers_per_trip=f.containers_per_trip,
            hours=_hours(f.hours),
            yard=TransferYard(
                yard_id=yard.yard_id,
                name=yard.name,
                bays=yard.bays,
                handover=handover,
                handover_sd=handover_sd,
                capacity=yard.capacity,
            ),
        )
    return Gate(
        gate_id=gate_id,
        name=config.name,
        cameras=tuple(Camera(c.camera_id, gate_id, c.direction, c.role) for c in config.cameras),
        lanes=tuple(lanes),
        visit_window=_minutes(config.visit_window_min),
        utc_offset=offset_of(config.utc_offset),
        fleet=fleet,
        approach_time=_minutes(config.approach_time_min),
        booking=_booking(config.booking),
        alert_rules=alert_rules_of(
            config.alerts,
            visit_window=_minutes(config.visit_window_min),
            utc_offset=offset_of(config.utc_offset),
        ),
        waiting_areas=tuple(
            WaitingArea(
                area_id=a.area_id,
                name=a.name,
                direction=a.direction,
                camera_id=a.camera_id,
                capacity=a.capacity,
                drive_time=_minutes(a.drive_time_min),
                call_lead=_minutes(a.call_lead_min),
                arrival_grace=_minutes(a.grace_min),
                reentry=_minutes(a.reentry_min),
            )
            for a in config.waiting_areas
        ),
    )
