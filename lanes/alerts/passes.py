"""Sightings -> passes: a plate's inbound reads (approach, gate-in) at one gate and direction
within the visit window are one pass; exit-camera reads stay apart, as exits."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from lanes.alert_rules import AlertRules
from lanes.alerts.model import ManifestVersion, Sighting
from lanes.evidence import ROW_MIN, rows_swapped
from lanes.similarity import FAR_APART, TRANSPOSE, plate_cost
from lanes.values import CameraRole, Direction, Manifest

INBOUND = frozenset({CameraRole.APPROACH, CameraRole.GATE_IN})
# An exit read this close to a plate (`lanes.similarity.plate_cost`, adjacent characters
# swapped as one mistake: below two arbitrary mistakes) may be that truck leaving, misread
NEAR_EXIT = FAR_APART


def could_be(text: str, plate: str) -> bool:
    """Whether an exit read's `text` may be `plate` misread, as the matcher's evidence
    rule reads a plate: within `NEAR_EXIT`, its two rows in the other order, or its bottom
    row alone (the top row lost); or, a pass's plate being itself a row read alone (every
    read of a truck without a manifest lost a row), the whole plate read at the exit."""
    if len(plate) - len(text) >= 2:
        return len(text) >= ROW_MIN and text.isascii() and plate.endswith(text)
    if len(text) - len(plate) >= 2:
        return text.startswith(plate) or text.endswith(plate)
    fixed = rows_swapped(text) or text
    return plate_cost(fixed, plate, swaps=True, transpose=TRANSPOSE) < NEAR_EXIT


@dataclass(frozen=True, slots=True)
class Pass:
    plate: str
    gate_id: str
    direction: Direction
    sightings: tuple[Sighting, ...]  # in (at, event_id) order

    @property
    def first_at(self) -> datetime:
        return self.sightings[0].at

    @property
    def last_at(self) -> datetime:
        return self.sightings[-1].at

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(s.event_id for s in self.sightings)

    @property
    def texts(self) -> tuple[str, ...]:
        """Every plate text its reads show: the plate first, then the reads' candidates."""
        return tuple(dict.fromkeys(t for s in self.sightings for t in (s.plate, *s.alternatives)))

    def at_portal(self) -> tuple[Sighting, ...]:
        return tuple(s for s in self.sightings if s.role is CameraRole.GATE_IN)


def ordered(sightings: Iterable[Sighting]) -> list[Sighting]:
    return sorted(sightings, key=lambda s: (s.at, s.event_id))


def passes(sightings: Sequence[Sighting], rules: AlertRules) -> list[Pass]:
    """Every pass with at least `rules.min_reads` reads, by (first_at, plate)."""
    open_: dict[tuple[str, str, Direction], list[Sighting]] = {}
    done: list[list[Sighting]] = []
    for s in ordered(sightings):
        if s.role not in INBOUND or not s.plate:
            continue
        key = (s.plate, s.gate_id, s.direction)
        current = open_.get(key)
        if current is not None and s.at - current[-1].at <= rules.visit_window:
            current.append(s)
            continue
        if current is not None:
            done.append(current)
        open_[key] = [s]
    done.extend(open_.values())
    found = [
        Pass(g[0].plate, g[0].gate_id, g[0].direction, tuple(g))
        for g in done
        if len(g) >= rules.min_reads
    ]
    return sorted(found, key=lambda p: (p.first_at, p.plate, p.gate_id))


class Declarations:
    """Manifest versions indexed by tractor plate, to ask what a plate's manifest said at
    a time."""

    def __init__(self, versions: Sequence[ManifestVersion]) -> None:
        key = lambda v: (v.received_at, v.version, v.manifest.manifest_id)  # noqa: E731
        self._history: dict[str, list[ManifestVersion]] = {}
        for v in sorted(versions, key=key):
            self._history.setdefault(v.manifest.manifest_id, []).append(v)
        self._by_plate: dict[str, list[str]] = {}
        for manifest_id, history in sorted(self._history.items()):
            for plate in dict.fromkeys(v.manifest.tractor_plate for v in history):
                self._by_plate.setdefault(plate, []).append(manifest_id)

    def as_of(
        self, plate: str, at: datetime
    ) -> tuple[Manifest, tuple[ManifestVersion, ...]] | None:
        """The manifest declaring tractor `plate` as it stood at `at` (the one whose window
        holds `at`, else the nearest window), with its versions received by then."""
        fits = []
        for manifest_id in self._by_plate.get(plate, ()):
            known = [v for v in self._history[manifest_id] if v.received_at <= at]
            if known and known[-1].manifest.tractor_plate == plate:
                fits.append(known)
        if not fits:
            return None

        def distance(h: list[ManifestVersion]) -> tuple[bool, float, str]:
            m = h[-1].manifest
            start, end = m.window_start, m.window_end
            inside = start is not None and end is not None and start <= at <= end
            gap = abs((start - at).total_seconds()) if start is not None else float("inf")
            return (not inside, gap, m.manifest_id)

        best = min(fits, key=distance)
        return best[-1].manifest, tuple(best)


class Exits:
    """Exit-camera reads indexed by every plate text they show; `add` and `remove` keep it
    up to date as a window slides (`lanes.alerts.incremental`)."""

    def __init__(self, sightings: Sequence[Sighting] = ()) -> None:
        self._at: dict[str, dict[tuple[datetime, str], int]] = {}
        self._gates: dict[str, int] = {}
        # per gate, its exit reads in (at, event_id) order, each with every text it shows
        self._timeline: dict[str, list[tuple[datetime, str, tuple[str, ...]]]] = {}
        for s in sightings:
            self.add(s)

    def add(self, s: Sighting) -> None:
        """Counts `s` in if it is an exit read (anything else is not an exit)."""
        if s.role is not CameraRole.EXIT:
            return
        self._gates[s.gate_id] = self._gates.get(s.gate_id, 0) + 1
        texts = tuple(dict.fromkeys((s.plate, *s.alternatives)))
        insort(self._timeline.setdefault(s.gate_id, []), (s.at, s.event_id, texts))
        for text in texts:
            found = self._at.setdefault(text, {})
            found[(s.at, s.event_id)] = found.get((s.at, s.event_id), 0) + 1

    def remove(self, s: Sighting) -> None:
        """Counts out an exit read `add` counted in."""
        if s.role is not CameraRole.EXIT:
            return
        self._gates[s.gate_id] -= 1
        if not self._gates[s.gate_id]:
            del self._gates[s.gate_id]
        timeline = self._timeline[s.gate_id]
        del timeline[bisect_left(timeline, (s.at, s.event_id, ()))]
        if not timeline:
            del self._timeline[s.gate_id]
        for text in dict.fromkeys((s.plate, *s.alternatives)):
            found = self._at[text]
            found[(s.at, s.event_id)] -= 1
            if not found[(s.at, s.event_id)]:
                del found[(s.at, s.event_id)]
            if not found:
                del self._at[text]

    def shows(self, text: str) -> bool:
        """Whether an exit read shows `text`."""
        return text in self._at

    def gates(self) -> frozenset[str]:
        """The gates whose exit cameras read anything."""
        return frozenset(self._gates)

    def read_at(self, gate_id: str) -> bool:
        """Whether the gate's exit cameras read anything: a gate whose exits are not read
        (no camera there, or its reads not sent) cannot tell a lost truck from any other."""
        return gate_id in self._gates

    def between(self, texts: Iterable[str], after: datetime, until: datetime) -> list[str]:
        """Ids of exit reads showing any of `texts` in (after, until]."""
        found = {
            event_id
            for text in texts
            for at, event_id in self._at.get(text, ())
            if after < at <= until
        }
        return sorted(found)

    def near(
        self,
        plate: str,
        gate_id: str,
        after: datetime,
        until: datetime,
        *,
        shown_by: Mapping[str, Iterable[str]],
        trucks: Container[str],
    ) -> list[str]:
        """Ids of exit reads at `gate_id` in (after, until] that may be `plate` misread
        (`could_be`) and are no other truck's: they show no text that an inbound read of
        another plate with a pass (`trucks`) shows (`shown_by`: text -> the plates of the
        inbound reads showing it). Such an exit read is one the matcher could not
        attribute (a truck without a manifest, or a mistake too costly), so an exit read
        of another truck never stands for this one."""
        timeline = self._timeline.get(gate_id, [])
        found = []
        for at, event_id, texts in timeline[bisect_right(timeline, (after, "\uffff")) :]:
            if at > until:
                break
            if any(q != plate and q in trucks for t in texts for q in shown_by.get(t, ())):
                continue
            if any(could_be(t, plate) for t in texts):
                found.append(event_id)
        return found
