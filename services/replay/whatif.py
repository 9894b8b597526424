"""A what-if file (TOML): the policy to replay with and changes to the gate, e.g.

    policy = "orchestrated"          # the live policy (the only one so far)
    gate_file = "my-gate.toml"       # optional: a whole gate file (relative to this file)
    [[lanes]]                        # optional: these lanes take these fields instead
    ids = ["HN-E6"]
    accepts = ["perishable"]
    [[closures]]                     # optional: these lanes closed (services/replay/closures.py)
    ids = ["HN-E1", "HN-E2"]
    from = 2026-12-06T10:00:00+07:00 # optional (the range's start), as `to` (its end)
    to = 2026-12-06T14:00:00+07:00

Each `[[lanes]]` entry gives the named lanes the fields it sets (the rest from their group;
every lane keeps its place in the gate's order); the result is checked like any
gate file, and errors name the what-if file and the field."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lanes.errors import UnknownGateError
from lanes.model import Gate
from lanes.policy import OrchestratedPolicy, Policy
from services.gates.loader import (
    GateConfigError,
    gate_document,
    gate_from_data,
    parse_gate,
    require_known_gate,
)
from services.gates.schema import LaneGroupConfig
from services.replay.closures import Closure, read_closures, unknown_lanes

# the live decision policies (the simulation's `fifo` baseline is a queueing discipline of
# the discrete-event model, not a live policy: it cannot be replayed)
POLICIES: dict[str, Callable[[], Policy]] = {"orchestrated": OrchestratedPolicy}
# what a what-if file may say (found by a stranger's try: `[[lane]]` or any misspelt key was
# ignored, and the what-if ran as the recorded day, "0 trucks changed")
KEYS = frozenset({"policy", "gate_file", "gate", "lanes", "closures"})
# what an analyst writes to close a lane in a [[lanes]] entry: a closure is not a field of
# the gate file, but the control room's lane event ([[closures]])
CLOSING = frozenset({"closed", "open", "is_open"})


@dataclass(frozen=True)
class WhatIf:
    name: str
    policy_name: str
    policy: Policy
    gates: Mapping[str, Gate]
    closures: tuple[Closure, ...] = ()  # lanes closed, as the control room closes them


def recorded(gates: Mapping[str, Gate]) -> WhatIf:
    """The policy and gates the live system runs with."""
    return WhatIf("recorded policy", "orchestrated", OrchestratedPolicy(), gates)


def load_what_if(path: Path, gates: Mapping[str, Gate], *, gates_dir: Path | None) -> WhatIf:
    source = path.name
    if not path.is_file():  # was "cannot read the what-if file as TOML: [Errno 2] ..."
        raise GateConfigError(source, [("", f"no such file: {path}")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GateConfigError(
            source, [("", f"cannot read the what-if file as TOML: {exc}")]
        ) from exc
    if not data:  # an empty file ran as the recorded policy, "0 trucks changed"
        raise GateConfigError(
            source,
            [
                (
                    "",
                    "the what-if file is empty: give policy, lanes, closures or gate_file "
                    "(without --policy the replay runs the recorded policy)",
                )
            ],
        )
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise GateConfigError(
            source,
            [
                (key, f"unknown key (a what-if file takes: {', '.join(sorted(KEYS))})")
                for key in unknown
            ],
        )
    lanes = data.get("lanes", [])
    if not isinstance(lanes, list) or not all(isinstance(entry, dict) for entry in lanes):
        raise GateConfigError(
            source, [("lanes", "an array of tables: write each entry as [[lanes]], not [lanes]")]
        )
    name = str(data.get("policy", "orchestrated"))
    if name not in POLICIES:
        raise GateConfigError(source, [("policy", f"{name!r} is not one of {sorted(POLICIES)}")])
    if "gate" in data:  # an unknown one was ignored without [[lanes]]
        _known_gate(str(data["gate"]), gates, source, "gate")
        if not data.get("lanes") and "gate_file" not in data and "closures" not in data:
            raise GateConfigError(  # it ran as recorded
                source,
                [
                    (
                        "gate",
                        "names the gate whose [[lanes]] change or [[closures]] close: with "
                        "neither, nothing changes",
                    )
                ],
            )
    changed = dict(gates)
    if "gate_file" in data:
        gate_path = path.parent / str(data["gate_file"])
        base = _toml(gate_path, source)
        _check_gate_file(gate_path, source)
        if "gate" in data and str(data["gate"]) != base.get("gate_id"):  # it was ignored
            raise GateConfigError(
                source,
                [
                    (
                        "gate",
                        f"{str(data['gate'])!r}, but gate_file {gate_path.name} is of "
                        f"{base.get('gate_id')!r}: the gate file's gate is the one changed",
                    )
                ],
            )
    elif data.get("lanes"):
        gate_id = str(data.get("gate", next(iter(gates))))
        base = _packaged_or_dir(gate_id, gates_dir, source)
    else:
        base = None
    closed_gate = str(data.get("gate", next(iter(gates))))
    if base is not None:
        # which of the what-if's [[lanes]] entries last changed each lane group, if any
        origins: list[int | None] = [None] * len(base.get("lanes", []))
        for i, override in enumerate(data.get("lanes", [])):
            origins = _override(base, override, f"{source}: lanes[{i}]", i, origins)
        gate = _gate(base, source, origins)
        # a gate whose events were never recorded: it ran, "0 trucks changed"
        _known_gate(gate.gate_id, gates, source, "gate_file")
        changed[gate.gate_id] = gate
        closed_gate = gate.gate_id
    closures = (
        read_closures(data["closures"], changed[closed_gate], source) if "closures" in data else ()
    )
    return WhatIf(path.stem, name, POLICIES[name](), changed, closures)


def _toml(path: Path, source: str) -> dict[str, Any]:
    """A gate file's document (read as the gate loader reads one: UTF-8, a byte-order mark
    skipped); a fault is the what-if's `gate_file`, naming the gate file."""
    try:
        return gate_document(path.read_bytes(), source=path.name)
    except OSError as exc:
        raise GateConfigError(source, [("gate_file", f"{path}: {exc}")]) from exc
    except GateConfigError as exc:
        raise _in_gate_file(exc, source) from exc


def _check_gate_file(path: Path, source: str) -> None:
    """The gate file's own faults, before any `[[lanes]]` change: named in the gate file,
    with their lines there, not as fields of the what-if file (found by a stranger's try)."""
    try:
        parse_gate(path.read_bytes(), source=path.name)
    except GateConfigError as exc:
        raise _in_gate_file(exc, source) from exc


def _in_gate_file(exc: GateConfigError, source: str) -> GateConfigError:
    """The gate file's faults as the what-if's `gate_file`, each said as the gate file's
    own error says it (`my-gate.toml:12: lanes[2].hours[0]: ...`)."""
    return GateConfigError(source, [("gate_file", said) for said in str(exc).splitlines()])


def _packaged_or_dir(gate_id: str, gates_dir: Path | None, source: str) -> dict[str, Any]:
    files = (
        sorted(gates_dir.glob("*.toml"))
        if gates_dir is not None
        else [Path(str(f)) for f in resources.files("services.gates").iterdir()]
    )
    for file in files:
        if file.name.endswith(".toml"):
            data = _toml(file, source)
            if data.get("gate_id") == gate_id:
                return data
    raise GateConfigError(source, [("gate", f"no gate file for {gate_id!r}")])


def _known_gate(gate_id: str, gates: Mapping[str, Gate], source: str, field: str) -> None:
    """The gate loader's one check of a gate id, as a refusal of the what-if file's `field`
    (a what-if changes a gate of this system, whose events were recorded)."""
    try:
        require_known_gate(gate_id, gates)
    except UnknownGateError as exc:
        raise GateConfigError(source, [(field, str(exc))]) from None


def _override(
    data: dict[str, Any],
    override: Mapping[str, Any],
    where: str,
    entry: int,
    origins: list[int | None],
) -> list[int | None]:
    """The named lanes take the override's fields; every lane keeps its place in the gate's
    order (ties between lanes are broken by that order). Returns, for each lane group now,
    the what-if entry that last changed it (`entry` for this one's), from `origins`."""
    raw = override.get("ids", [])
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        # a number was a TypeError traceback; a string was taken letter by letter
        raise GateConfigError(
            where, [("ids", f'an array of lane ids, e.g. ids = ["HN-E1"] (got {raw!r})')]
        )
    ids = set(raw)
    if not ids:
        raise GateConfigError(where, [("ids", "name at least one lane")])
    groups: list[dict[str, Any]] = data.get("lanes", [])
    lane_ids = [i for g in groups for i in g.get("ids", [])]
    said = unknown_lanes(sorted(ids), lane_ids, data.get("gate_id"))
    if said:
        raise GateConfigError(where, [("ids", said)])
    unknown = sorted(set(override) - set(LaneGroupConfig.model_fields))
    if unknown:  # was pydantic's "Extra inputs are not permitted", naming no right one
        takes = ", ".join(sorted(set(LaneGroupConfig.model_fields) - {"ids"}))
        why = f"no such field of a lane (a [[lanes]] entry sets ids and any of: {takes})"
        closing = "; to close these lanes, a [[closures]] entry: ids, and from and to"
        raise GateConfigError(
            where, [(key, why + (closing if key in CLOSING else "")) for key in unknown]
        )
    if not set(override) - {"ids"}:  # it ran as the recorded day, "0 trucks changed"
        raise GateConfigError(
            where,
            [
                (
                    "",
                    "changes nothing: give the fields these lanes take instead (accepts, "
                    "channels, hours, service, kind, ...)",
                )
            ],
        )
    out: list[dict[str, Any]] = []
    out_origins: list[int | None] = []
    for group, origin in zip(groups, origins, strict=True):
        runs: list[list[str]] = []
        for lane_id in group.get("ids", []):
            if runs and (runs[-1][0] in ids) == (lane_id in ids):
                runs[-1].append(lane_id)
            else:
                runs.append([lane_id])
        for run in runs:
            changed = run[0] in ids
            fields = {**group, **dict(override)} if changed else dict(group)
            out.append({**fields, "ids": run})
            out_origins.append(entry if changed else origin)
    data["lanes"] = out
    return out_origins


# a lane group's path: its index, `.ids` (an index in it dropped: the runs differ), the rest
_GROUP = re.compile(r"lanes\[(\d+)\](?:(\.ids)(?:\[\d+\])?)?(.*)")


def _gate(data: dict[str, Any], source: str, origins: list[int | None]) -> Gate:
    """The changed gate; a fault in a lane group a [[lanes]] entry changed is named by that
    entry (`lanes[i]` of the what-if file), not by the group's place in the changed gate."""
    try:
        return gate_from_data(data, source)
    except GateConfigError as exc:
        problems = []
        for where, why in exc.problems:
            match = _GROUP.fullmatch(where)
            entry = None if match is None else origins[int(match[1])]
            named = where
            if match is not None and entry is not None:
                named = f"lanes[{entry}]{match[2] or ''}{match[3]}"
            problems.append((named, why))
        raise GateConfigError(source, problems) from exc
