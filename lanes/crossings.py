"""Crossings between the two sides of one gate (issue 21): what one side knows of a truck
that leaves it for the other side, or arrives from it, and the reconciliation of the two.

A crossing is one truck's passage from one side's gate to the other's. Its facts come from
both sides: the pre-arrival notice and the exit from the side it leaves, the entry from the
side it reaches. `reconcile` turns them, up to an event-time `now`, into alerts:

- **overdue**: the truck left one side and has not entered the other within the corridor's
  expected transit time plus its margin;
- **mismatch**: it entered with a tractor plate, a trailer plate or containers other than
  those the side it left announced.

Pure: event time is an argument, the same facts in any order give the same alerts. The
event time the alerts are reckoned at, `crossings_clock`, is confirmed by two crossings,
so one crossing dated wrong by the other side cannot move it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from lanes.plates import normalise_plate
from lanes.values import gate_clock


class Side(StrEnum):
    """The two administrations of the gate."""

    VN = "VN"  # Huu Nghi, Vietnam
    CN = "CN"  # Youyiguan, China

    @property
    def other(self) -> Side:
        return Side.CN if self is Side.VN else Side.VN


class ExitMode(StrEnum):
    ROAD = "road"  # the truck drove across
    AUTONOMOUS_CARRIER = "autonomous_carrier"  # its container went on a carrier via the yard


class AlertKind(StrEnum):
    OVERDUE = "overdue"
    MISMATCH = "mismatch"
    DATED_AHEAD = "dated_ahead"  # a fact dated well after the gate clock
    CLOCK_SKEW = "clock_skew"  # the two sides' clocks disagree (lanes/crossing_clocks.py)


@dataclass(frozen=True, slots=True)
class TruckIdentity:
    """What identifies a truck at a gate: plates (normalised) and container numbers."""

    tractor_plate: str
    trailer_plate: str | None = None
    containers: tuple[str, ...] = ()

    def normalised(self) -> TruckIdentity:
        return TruckIdentity(
            normalise_plate(self.tractor_plate),
            normalise_plate(self.trailer_plate) if self.trailer_plate else None,
            tuple(sorted(c.upper() for c in self.containers)),
        )


@dataclass(frozen=True, slots=True)
class Sighting:
    """A side saw the truck: it left (exit) or arrived (entry) at `at`, event time."""

    message_id: str
    at: datetime
    truck: TruckIdentity


@dataclass(frozen=True, slots=True)
class Crossing:
    """Everything known of one crossing. `from_side` is the side the truck leaves."""

    crossing_id: str
    from_side: Side
    notice: Sighting | None = None  # the pre-arrival notice's identity and clearance time
    exit: Sighting | None = None
    entry: Sighting | None = None


@dataclass(frozen=True, slots=True)
class Corridor:
    """The road between the two gates: how long a crossing takes, and the slack allowed;
    `utc_offset`: the clock of the gate whose controllers read the alerts (their
    explanations name times on it; the evidence keeps ISO UTC)."""

    expected_transit: timedelta
    margin: timedelta
    utc_offset: timedelta = timedelta(0)

    @property
    def deadline_after_exit(self) -> timedelta:
        return self.expected_transit + self.margin


@dataclass(frozen=True, slots=True)
class CrossingAlert:
    """One alert of one crossing, with the evidence (message ids, times, identities)."""

    alert_id: str
    kind: AlertKind
    crossing_id: str
    from_side: Side
    at: datetime  # event time the alert became true
    explanation: str
    evidence: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ClockSkew:
    """How far CN's clock runs from VN's (`offset` = CN's minus VN's), estimated from trucks
    that crossed both ways (`lanes.crossing_clocks.estimate_skew`): the alerts take each
    side's times on its own clock, the other side's moved by it."""

    offset: timedelta
    transit_from: tuple[tuple[Side, timedelta], ...] = ()  # median exit-to-entry, per side left
    pairs: int = 0  # crossings each way it is estimated from (the fewer of the two)

    def shift(self, side: Side) -> timedelta:
        """What to add to a time on VN's clock to have it on `side`'s."""
        return self.offset if side is Side.CN else timedelta(0)

    def words(self) -> str:
        """`CN's clock appears 3 h 00 min ahead of VN's`."""
        way = "ahead of" if self.offset > timedelta(0) else "behind"
        return f"CN's clock appears {_duration(abs(self.offset))} {way} VN's"


# how many crossings must have reached an event time before the alerts are reckoned at it
CLOCK_WITNESSES = 2
# a fact dated this long after the gate clock is told to the controllers: a date its side
# got wrong, or the first truck after a closure of more than a day (until a second comes)
DATED_AHEAD_AFTER = timedelta(days=1)


def crossings_clock(latest: Iterable[datetime]) -> datetime | None:
    """The event time alerts are reckoned at, from each crossing's latest event time: the
    second latest of them (the only one when there is one), never the latest alone. One
    crossing dated wrong (a peer's exit dated years ahead) would otherwise carry the clock
    with it, for good, as it only moves forward: every truck in transit overdue, and every
    later one at once. A time is the clock once a second crossing has reached it; a clock
    a few minutes off on one side moves the alerts by those minutes at most, since the
    clock is always the time of a fact."""
    times = sorted(latest, reverse=True)[:CLOCK_WITNESSES]
    return times[-1] if times else None


def reconcile(
    crossings: Iterable[Crossing],
    *,
    now: datetime,
    corridor: Corridor,
    skew: ClockSkew | None = None,
) -> list[CrossingAlert]:
    """The alerts true at `now` (event time), sorted by time then id. With a `skew`, `now`
    is on VN's clock, and each fact is judged on the clock of the side that reported it
    (`now` moved by the skew for CN's), never on the other side's."""
    alerts: list[CrossingAlert] = []
    for crossing in crossings:
        if (overdue := _overdue(crossing, now, corridor, skew)) is not None:
            alerts.append(overdue)
        if (differs := mismatch(crossing)) is not None:
            alerts.append(differs)
        if (ahead := dated_ahead(crossing, now, corridor, skew)) is not None:
            alerts.append(ahead)
    return sorted(alerts, key=lambda a: (a.at, a.alert_id))


def _overdue(
    crossing: Crossing, vn_now: datetime, corridor: Corridor, skew: ClockSkew | None
) -> CrossingAlert | None:
    exit_ = crossing.exit
    if exit_ is None or crossing.entry is not None:
        return None
    side = crossing.from_side
    now = vn_now + skew.shift(side) if skew else vn_now  # on the clock of the exit's side
    deadline = exit_.at + corridor.deadline_after_exit
    if now <= deadline:
        return None
    late = now - exit_.at
    return CrossingAlert(
        alert_id=f"overdue:{crossing.crossing_id}",
        kind=AlertKind.OVERDUE,
        crossing_id=crossing.crossing_id,
        from_side=crossing.from_side,
        at=deadline,
        explanation=(
            f"left {crossing.from_side.value} at {_gate_time(exit_.at, deadline, corridor)} "
            f"and has not entered "
            f"{crossing.from_side.other.value} after {_minutes(late)} min (expected "
            f"{_minutes(corridor.expected_transit)} min + {_minutes(corridor.margin)} min margin)"
            f"{_clock_used(side, now, corridor, skew)}"
        ),
        evidence=(
            ("exit_message_id", exit_.message_id),
            ("exit_at", exit_.at.isoformat()),
            ("deadline", deadline.isoformat()),
            ("tractor_plate", exit_.truck.tractor_plate),
        ),
    )


def dated_ahead(
    crossing: Crossing, vn_now: datetime, corridor: Corridor, skew: ClockSkew | None = None
) -> CrossingAlert | None:
    """The alert of a crossing with a fact dated more than DATED_AHEAD_AFTER after `now`
    (the gate clock, which it does not move: `crossings_clock`; with a `skew`, on the clock
    of the side that reported the fact), naming the latest such fact and the side that
    reported it; its overdue alert cannot come before that date. Times told on the reading
    gate's clock, as the other alerts' (the evidence keeps ISO)."""

    def reporter(name: str) -> Side:
        return crossing.from_side.other if name == "entry" else crossing.from_side

    def clock_of(name: str) -> datetime:
        return vn_now + skew.shift(reporter(name)) if skew else vn_now

    facts = (("notice", crossing.notice), ("exit", crossing.exit), ("entry", crossing.entry))
    ahead = [(n, s) for n, s in facts if s is not None and s.at > clock_of(n) + DATED_AHEAD_AFTER]
    if not ahead:
        return None
    name, sighting = max(ahead, key=lambda fact: fact[1].at - clock_of(fact[0]))
    side, now = reporter(name), clock_of(name)
    days = (sighting.at - now).total_seconds() / 86400
    return CrossingAlert(
        alert_id=f"dated_ahead:{crossing.crossing_id}",
        kind=AlertKind.DATED_AHEAD,
        crossing_id=crossing.crossing_id,
        from_side=crossing.from_side,
        at=now,
        explanation=(
            f"{name} at {gate_clock(sighting.at, corridor.utc_offset, zone='named')} from "
            f"{side.value} is {days:.1f} days after the gate clock "
            f"({gate_clock(now, corridor.utc_offset, zone='named')}): a date {side.value} got "
            "wrong, or the first "
            "truck after a closure; the clock does not follow it until a second crossing "
            "does, and this crossing cannot be overdue before that date"
        ),
        evidence=(
            (f"{name}_message_id", sighting.message_id),
            (f"{name}_at", sighting.at.isoformat()),
            ("reported_by", side.value),
            ("gate_clock", now.isoformat()),
        ),
    )


def _clock_used(side: Side, now: datetime, corridor: Corridor, skew: ClockSkew | None) -> str:
    """The clause an overdue alert ends with: the clock it was reckoned at, and whose."""
    said = f"; reckoned at {_gate_time(now, now, corridor)}"
    if skew is None:
        return f"{said}, the second latest crossing time of either side"
    return (
        f"{said} on {side.value}'s clock, the second latest crossing time with "
        f"{side.other.value}'s times moved {_duration(abs(skew.offset))} ({skew.words()})"
    )


def _duration(delta: timedelta) -> str:
    """`3 h 00 min`, `45 min`."""
    hours, minutes = divmod(_minutes(delta), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _gate_time(at: datetime, day_of: datetime, corridor: Corridor) -> str:
    """`at` on the reading gate's clock, its zone named: `10:14 (UTC+07:00)`, with the date
    when its local day is not that of `day_of`."""
    return gate_clock(at, corridor.utc_offset, day_of=day_of, zone="named")


def mismatch(crossing: Crossing) -> CrossingAlert | None:
    """The mismatch alert of a crossing whose entry differs from what was announced (its
    notice, or else its exit); None when they agree or either is missing. True or not for
    good once the crossing is entered, whatever the time: a store can keep it as a flag."""
    entry = crossing.entry
    announced = crossing.notice or crossing.exit
    if entry is None or announced is None:
        return None
    expected, seen = announced.truck.normalised(), entry.truck.normalised()
    differences = identity_differences(expected, seen)
    if not differences:
        return None
    evidence: list[tuple[str, str]] = [
        ("announced_message_id", announced.message_id),
        ("entry_message_id", entry.message_id),
    ]
    for field, want, got in differences:
        evidence += [(f"{field}.announced", want), (f"{field}.seen", got)]
    told = "; ".join(f"{field} {got} (announced {want})" for field, want, got in differences)
    return CrossingAlert(
        alert_id=f"mismatch:{crossing.crossing_id}",
        kind=AlertKind.MISMATCH,
        crossing_id=crossing.crossing_id,
        from_side=crossing.from_side,
        at=entry.at,
        explanation=(f"entered {crossing.from_side.other.value} otherwise than announced: {told}"),
        evidence=tuple(evidence),
    )


def identity_differences(
    expected: TruckIdentity, seen: TruckIdentity
) -> list[tuple[str, str, str]]:
    """(field, announced, seen) for each identity field that differs (normalised input)."""
    found = []
    if expected.tractor_plate != seen.tractor_plate:
        found.append(("tractor_plate", expected.tractor_plate, seen.tractor_plate))
    if (expected.trailer_plate or "") != (seen.trailer_plate or ""):
        found.append(("trailer_plate", expected.trailer_plate or "", seen.trailer_plate or ""))
    if expected.containers != seen.containers:
        found.append(("containers", " ".join(expected.containers), " ".join(seen.containers)))
    return found


def match_entry(truck: TruckIdentity, awaited: Sequence[Crossing]) -> Crossing | None:
    """The crossing an arriving truck most likely belongs to, among those announced by the
    other side and not yet entered: same tractor plate first, then a shared container, then
    the same trailer; the earliest exit wins a tie. None: nobody announced it."""
    seen = truck.normalised()
    open_ = sorted(
        (c for c in awaited if c.entry is None and (c.notice or c.exit) is not None),
        key=lambda c: (_announced_at(c), c.crossing_id),
    )
    for same in (_same_tractor, _shares_container, _same_trailer):
        for crossing in open_:
            if same(_announced(crossing).truck.normalised(), seen):
                return crossing
    return None


def _announced(crossing: Crossing) -> Sighting:
    found = crossing.exit or crossing.notice
    assert found is not None
    return found


def _announced_at(crossing: Crossing) -> datetime:
    return _announced(crossing).at


def _same_tractor(a: TruckIdentity, b: TruckIdentity) -> bool:
    return a.tractor_plate == b.tractor_plate


def _shares_container(a: TruckIdentity, b: TruckIdentity) -> bool:
    return bool(set(a.containers) & set(b.containers))


def _same_trailer(a: TruckIdentity, b: TruckIdentity) -> bool:
    return a.trailer_plate is not None and a.trailer_plate == b.trailer_plate


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
