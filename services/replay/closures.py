"""Lanes a what-if closes (`[[closures]]`): for the whole replayed range, or from one time
to another (event time, each with its UTC offset):

    [[closures]]                     # what if HN-E3 had been shut all day?
    ids = ["HN-E3"]
    [[closures]]                     # ... and HN-E1, HN-E2 from 10:00 to 14:00 local?
    ids = ["HN-E1", "HN-E2"]
    from = 2026-12-06T10:00:00+07:00
    to = 2026-12-06T14:00:00+07:00

A closure is not a change of the gate file: the replay gives its lanes the control room's
own lane events (`lane_closed` at `from`, `lane_opened` at `to`; services/replay/
closing.py), which the live lane-event use case applies as it applies a controller's, so
the trucks queued there are re-planned as they are live. This module reads the entries
(errors name the what-if file and the field), checks them against the replayed range and
says which trucks a closure leaves with no lane."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lanes.model import CargoClass, CustomsChannel, Direction, Gate
from services.gates.loader import GateConfigError

KEYS = ("ids", "from", "to")


@dataclass(frozen=True, slots=True)
class Closure:
    """The lanes `lane_ids` of `gate_id` closed from `start` to `end` (event time; None:
    the replayed range's start, or its end), as the what-if file's `closures[entry]`."""

    entry: int
    gate_id: str
    lane_ids: tuple[str, ...]
    start: datetime | None = None
    end: datetime | None = None


def unknown_lanes(ids: Sequence[str], lanes: Sequence[str], gate_id: object) -> str | None:
    """What to say of `ids` naming lanes the gate has not (its `lanes`), or None (the one
    wording of a what-if's `[[lanes]]` and `[[closures]]` entries)."""
    missing = sorted(set(ids) - set(lanes))
    if not missing:
        return None
    return f"no lane {missing} in gate {gate_id} (its lanes: {', '.join(lanes)})"


def read_closures(raw: Any, gate: Gate, source: str) -> tuple[Closure, ...]:
    """The what-if file's `closures` (its lanes those of `gate`, as the what-if changes it)."""
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise GateConfigError(
            source,
            [("closures", "an array of tables: write each entry as [[closures]], not [closures]")],
        )
    if not raw:
        raise GateConfigError(source, [("closures", "empty: give each closure as [[closures]]")])
    return tuple(_closure(n, entry, gate, source) for n, entry in enumerate(raw))


def _closure(n: int, entry: Mapping[str, Any], gate: Gate, source: str) -> Closure:
    where = f"closures[{n}]"
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        why = "no such field of a closure (a [[closures]] entry takes ids, and from and to)"
        raise GateConfigError(source, [(f"{where}.{key}", why) for key in unknown])
    ids = entry.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or not ids:
        raise GateConfigError(
            source,
            [(f"{where}.ids", f'name the lanes to close, e.g. ids = ["HN-E1"] (got {ids!r})')],
        )
    said = unknown_lanes(ids, [lane.lane_id for lane in gate.lanes], gate.gate_id)
    if said:
        raise GateConfigError(source, [(f"{where}.ids", said)])
    start = _time(entry["from"], f"{where}.from", gate, source) if "from" in entry else None
    end = _time(entry["to"], f"{where}.to", gate, source) if "to" in entry else None
    if start is not None and end is not None and end <= start:
        said = f"{entry['to']} is not after from ({entry['from']}): a closure ends after it begins"
        raise GateConfigError(source, [(f"{where}.to", said)])
    return Closure(n, gate.gate_id, tuple(dict.fromkeys(ids)), start, end)


def _time(value: Any, where: str, gate: Gate, source: str) -> datetime:
    """A TOML time with its offset (`2026-12-06T10:00:00+07:00`, or the same as a string);
    a local time or a date is refused, as `--from` refuses one, not taken as UTC."""
    at = value
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            hint = _hint(None, gate.utc_offset)
            raise GateConfigError(
                source, [(where, f"{value!r} is not an ISO 8601 time: {hint}")]
            ) from None
    hint = _hint(at, gate.utc_offset)
    if isinstance(at, datetime):
        if at.tzinfo is None:
            said = f"{value} has no UTC offset: write it with one, {hint}"
            raise GateConfigError(source, [(where, said)])
        try:
            return at.astimezone(UTC)
        except OverflowError:
            raise GateConfigError(source, [(where, f"{value} is no time in UTC")]) from None
    what = (
        "a date"
        if isinstance(at, date)
        else "a time of day without its date"
        if isinstance(at, time)
        else f"not a time ({type(at).__name__})"
    )
    raise GateConfigError(
        source, [(where, f"{value} is {what}: give a time with its offset, {hint}")]
    )


def _hint(at: object, offset: timedelta) -> str:
    """An example with its offset on the day written (a date: its midnight; a time of day or
    no time: a day of ours), so that the example, copied, is the time meant."""
    local = datetime(2026, 12, 6, 10)
    if isinstance(at, datetime):
        local = at.replace(tzinfo=None, microsecond=0)
    elif isinstance(at, date):
        local = datetime.combine(at, time())
    try:
        utc = local - offset
    except OverflowError:  # the year 1 or 9999 at the edge: our day instead
        local = datetime(2026, 12, 6, 10)
        utc = local - offset
    example = f"{local:%Y-%m-%dT%H:%M:%S}{_offset(offset).removeprefix('UTC')}"
    return f"e.g. {example} (the gate's local time) or {utc:%Y-%m-%dT%H:%M:%S}Z"


def for_range(
    closures: Sequence[Closure], *, start: datetime, end: datetime, source: str
) -> tuple[Closure, ...]:
    """The closures with their times (none given: the range's start, or its end); one that
    closes nothing in [start, end) is refused (a mistyped day would replay as recorded)."""
    out = []
    for closure in closures:
        dated = replace(closure, start=closure.start or start, end=closure.end or end)
        assert dated.start is not None and dated.end is not None
        if dated.end <= start or dated.start >= end:
            zone = start.tzinfo  # the closure in the clock the range was typed in
            said = (
                f"{dated.start.astimezone(zone).isoformat()} to "
                f"{dated.end.astimezone(zone).isoformat()} closes nothing in the "
                f"replayed range ({start.isoformat()} to {end.isoformat()})"
            )
            raise GateConfigError(source, [(f"closures[{closure.entry}]", said)])
        out.append(dated)
    return tuple(out)


def described(closures: Sequence[Closure], gates: Mapping[str, Gate]) -> list[str]:
    """Each closure for the summary, in the gate's time: `HN-E1, HN-E2: 2026-12-06 10:00 to
    14:00 (UTC+07:00)`."""
    out = []
    for c in closures:
        assert c.start is not None and c.end is not None
        stretch = _stretch(c.start, c.end, gates[c.gate_id].utc_offset)
        out.append(f"{', '.join(c.lane_ids)}: {stretch}")
    return out


def without_a_lane(closures: Sequence[Closure], gates: Mapping[str, Gate]) -> list[str]:
    """What the closures leave with no lane, each stretch of time once: `2026-12-06 10:00 to
    14:00 (UTC+07:00): no open export lane takes hazmat cargo (green, yellow, red; closed:
    HN-E12)`, one cargo class and channel at a time, the lanes' open hours aside. Live, such
    a truck is refused (`no open export lane takes it (closed: HN-E12)`) and stays so until
    a controller places it; the replay refuses it too, and does not place it."""
    out: list[str] = []
    for gate_id in sorted({c.gate_id for c in closures}):
        gate = gates[gate_id]
        mine = [c for c in closures if c.gate_id == gate_id]
        times = sorted({t for c in mine for t in (c.start, c.end) if t is not None})
        said: list[tuple[datetime, datetime, str]] = []  # stretches, the same ones merged
        for a, b in itertools.pairwise(times):
            closed = {i for c in mine if _covers(c, a) for i in c.lane_ids}
            gaps = [
                f"no open {direction} lane takes {cargo} cargo ({', '.join(channels)}; "
                f"closed: {', '.join(lanes)})"
                for direction in Direction
                for cargo, (channels, lanes) in _unserved(gate, direction, closed).items()
            ]
            for gap in gaps:
                last = next((n for n, s in enumerate(said) if s[1] == a and s[2] == gap), None)
                if last is None:
                    said.append((a, b, gap))
                else:
                    said[last] = (said[last][0], b, gap)
        out += [f"{_stretch(a, b, gate.utc_offset)}: {gap}" for a, b, gap in said]
    return out


def _covers(closure: Closure, at: datetime) -> bool:
    return (
        closure.start is not None and closure.end is not None and closure.start <= at < closure.end
    )


def _stretch(start: datetime, end: datetime, offset: timedelta) -> str:
    a, b = start.astimezone(UTC) + offset, end.astimezone(UTC) + offset
    until = f"{b:%H:%M}" if b.date() == a.date() else f"{b:%Y-%m-%d %H:%M}"
    return f"{a:%Y-%m-%d %H:%M} to {until} ({_offset(offset)})"


def _unserved(
    gate: Gate, direction: Direction, closed: set[str]
) -> dict[str, tuple[list[str], list[str]]]:
    """Each cargo class some `direction` lane takes that no open one does: the channels it
    goes without, and the (closed) lanes that take it, in the gate's order."""
    lanes = gate.lanes_for(direction)
    out: dict[str, tuple[list[str], list[str]]] = {}
    for cargo in CargoClass:
        for channel in CustomsChannel:
            takes = [ln.lane_id for ln in lanes if cargo in ln.accepts and channel in ln.channels]
            if takes and all(lane_id in closed for lane_id in takes):
                channels, closing = out.setdefault(cargo.value, ([], []))
                channels.append(channel.value)
                closing += [lane_id for lane_id in takes if lane_id not in closing]
    return {
        cargo: (channels, [ln.lane_id for ln in lanes if ln.lane_id in closing])
        for cargo, (channels, closing) in out.items()
    }


def _offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
