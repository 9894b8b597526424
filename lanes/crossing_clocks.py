"""The two sides' clocks (issue 21): each side stamps its facts with its own clock, and a
side whose clock is hours off on every fact (local time sent as UTC, a wrong time zone)
must not time the other side's questions.

`crossings_clock` (lanes/crossings.py) takes the alerts' clock from both sides' facts, two
crossings confirming it: one fact dated wrong cannot move it, but a side whose every fact
is 3 hours ahead carries it (every truck of the other side in transit is overdue 3 hours
early), and a side 2 hours behind has its own trucks overdue as soon as they leave.

Here, the trucks that crossed say how far apart the clocks are: a truck's exit is stamped
by the side it left and its entry by the side it reached, so the transit seen from VN to
CN is the true transit plus CN's offset, and from CN to VN the true transit minus it. Half
the difference of the two medians is the offset, whatever the road takes (`estimate_skew`;
both ways needed: one way alone cannot tell a slow road from a clock). Once it is
SKEW_AFTER or more:

- the alerts are told of it (`clock_skew`, with the medians it comes from);
- every fact is put on VN's clock (CN's moved by the offset) before the two confirming
  crossings are picked (`alerts_clock`), and each alert is judged on the clock of the side
  that reported its facts (`reconcile(..., skew=)`), so CN's clock never times VN's trucks.

Both sides hold the same facts, so they estimate the same skew and raise the same alerts.
Pure: event time only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median_low

from lanes.crossings import (
    AlertKind,
    ClockSkew,
    Corridor,
    Crossing,
    CrossingAlert,
    Side,
    crossings_clock,
    reconcile,
)
from lanes.values import gate_clock

# crossings each way, with both their exit and their entry, before the clocks are compared
SKEW_PAIRS = 3
# the latest crossings each way the medians are taken of (a clock put right is seen so soon)
SKEW_WINDOW = 9
# an offset this large is a clock off, not the two roads' difference (ASSUMPTION: the
# median transit differs by less than twice this between the two directions)
SKEW_AFTER = timedelta(minutes=30)


def estimate_skew(
    crossings: Iterable[Crossing], *, expected_transit: timedelta | None = None
) -> ClockSkew | None:
    """CN's clock against VN's, from the crossings with an exit and an entry (the latest
    SKEW_WINDOW each way by VN's stamp, its exit or its entry, are enough): None with
    fewer than SKEW_PAIRS each way (but see `_one_way`, given the `expected_transit`), or
    when the clocks agree within SKEW_AFTER."""
    transits: dict[Side, list[tuple[datetime, timedelta]]] = {Side.VN: [], Side.CN: []}
    for crossing in crossings:
        exit_, entry = crossing.exit, crossing.entry
        if exit_ is not None and entry is not None:
            # the latest by VN's stamp of the two (CN's, put right, would put the trucks of
            # its wrong hours after those since, for as many hours)
            by = exit_.at if crossing.from_side is Side.VN else entry.at
            transits[crossing.from_side].append((by, entry.at - exit_.at))
    latest = {
        side: [t for _, t in sorted(found, reverse=True)[:SKEW_WINDOW]]
        for side, found in transits.items()
    }
    pairs = min(len(found) for found in latest.values())
    if pairs < SKEW_PAIRS:
        return None if expected_transit is None else _one_way(latest, expected_transit)
    from_vn, from_cn = median_low(latest[Side.VN]), median_low(latest[Side.CN])
    offset = timedelta(minutes=round((from_vn - from_cn).total_seconds() / 120))
    if abs(offset) < SKEW_AFTER:
        return None
    return ClockSkew(offset, ((Side.VN, from_vn), (Side.CN, from_cn)), pairs)


def _one_way(latest: dict[Side, list[timedelta]], expected: timedelta) -> ClockSkew | None:
    """Trucks one way only (or too few the other way): a slow road and a clock cannot be
    told apart, but no road runs backwards. A median transit SKEW_AFTER or more below zero
    (the trucks entered before they left) is the clocks' skew, taken as that plus the
    `expected` transit: seen from VN to CN it is the true transit plus CN's offset, from CN
    to VN the true transit minus it."""
    for side, found in latest.items():
        if len(found) < SKEW_PAIRS or (median := median_low(found)) > -SKEW_AFTER:
            continue
        offset = median - expected if side is Side.VN else expected - median
        minutes = timedelta(minutes=round(offset.total_seconds() / 60))
        return ClockSkew(minutes, ((side, median),), len(found))
    return None


def on_vn_clock(crossing: Crossing, skew: ClockSkew | None) -> datetime | None:
    """The crossing's latest fact, each fact put on VN's clock first."""
    facts = (
        (crossing.from_side, crossing.notice),
        (crossing.from_side, crossing.exit),
        (crossing.from_side.other, crossing.entry),
    )
    times = [s.at - (skew.shift(side) if skew else timedelta(0)) for side, s in facts if s]
    return max(times, default=None)


@dataclass(frozen=True, slots=True)
class AlertsClock:
    """The event time the alerts are reckoned at: `at` on VN's clock (with no skew, both
    sides' clocks taken as one), and the skew that puts it on CN's."""

    at: datetime
    skew: ClockSkew | None = None

    def on(self, side: Side) -> datetime:
        return self.at + (self.skew.shift(side) if self.skew else timedelta(0))


def alerts_clock(
    crossings: Iterable[Crossing], skew: ClockSkew | None = None
) -> AlertsClock | None:
    """`crossings_clock` of the crossings' latest facts, on VN's clock through `skew`: the
    second latest, so two crossings confirm it, and neither side's clock carries it alone.
    `crossings` must hold every crossing whose latest time, as stamped, is within the
    skew of the second latest (the store reads them so)."""
    latest = (on_vn_clock(c, skew) for c in crossings)
    at = crossings_clock(t for t in latest if t is not None)
    return None if at is None else AlertsClock(at, skew)


def alerts(
    crossings: Iterable[Crossing], *, clock: AlertsClock, corridor: Corridor
) -> list[CrossingAlert]:
    """`reconcile` at `clock`, each fact judged on its own side's clock, and the skew told
    as an alert of its own when there is one."""
    found = reconcile(crossings, now=clock.at, corridor=corridor, skew=clock.skew)
    if clock.skew is not None:
        found.insert(0, skew_alert(clock.skew, clock.at, corridor))
    return found


def skew_alert(skew: ClockSkew, now: datetime, corridor: Corridor) -> CrossingAlert:
    """The controllers' alert of the two clocks' disagreement, with what it rests on."""
    way = "ahead" if skew.offset > timedelta(0) else "behind"
    expected = _minutes(corridor.expected_transit)
    took = " and ".join(
        f"{_minutes(median)} min from {side.value}'s exit to {side.other.value}'s entry"
        for side, median in skew.transit_from
    )
    if len(skew.transit_from) == 2:
        seen = f"the latest {skew.pairs} trucks each way took a median {took} (expected "
        seen += f"{expected} min)"
        counted = ("pairs_each_way", str(skew.pairs))
    else:
        side = skew.transit_from[0][0]
        seen = f"the latest {skew.pairs} trucks from {side.value} took a median {took}, and "
        seen += f"no road runs backwards (taken with the {expected} min expected for it)"
        counted = (f"pairs_from_{side.value.lower()}", str(skew.pairs))
    medians = tuple(
        (f"median_transit_from_{side.value.lower()}_minutes", str(_minutes(median)))
        for side, median in skew.transit_from
    )
    return CrossingAlert(
        alert_id=f"clock_skew:CN-{way}",
        kind=AlertKind.CLOCK_SKEW,
        crossing_id="",
        from_side=Side.CN,
        at=now,
        explanation=(
            f"{skew.words()}: {seen}; the overdue alerts judge each truck on the clock of "
            f"the side it left, CN's times moved by the offset, until the clocks agree "
            f"within {_minutes(SKEW_AFTER)} min (VN's clock: "
            f"{gate_clock(now, corridor.utc_offset, zone='named')})"
        ),
        evidence=(
            ("offset_minutes", str(_minutes(skew.offset))),
            *medians,
            counted,
            ("vn_clock", now.isoformat()),
        ),
    )


def _minutes(delta: timedelta) -> int:
    """Whole minutes, towards zero (a transit can be negative on two clocks)."""
    return int(delta.total_seconds() / 60)
