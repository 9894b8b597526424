"""Sightings -> passes: a plate's inbound reads (approach, gate-in) at one gate and direction
within the visit window are one pass; exit-camera reads stay apart, as exits, and an exit
read that shows no pass's text stands for the one pass open then that it may be, misread
(`Exits.misread`)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lanes.alert_rules import AlertRules
from lanes.alerts.model import ManifestVersion, Sighting
from lanes.evidence import CORROBORATED_MAX, EVIDENCE_MAX, MARGIN, text_cost
from lanes.values import CameraRole, Direction, Manifest

INBOUND = frozenset({CameraRole.APPROACH, CameraRole.GATE_IN})
# An exit read that shows no text of a pass stands for the pass whose plate it may be,
# misread, when that is the only pass it may be: priced as the matcher prices one read
# (`lanes.evidence.text_cost`), within what the evidence rule accepts when something else
# agrees (CORROBORATED_MAX, two edits: here the truck was due at the exit then), and every
# other pass open at its time further by the matcher's ambiguity bound (MARGIN). Chosen on
# bench/holdout.py's TUNING error models (bench/alerts_noise.py; docs/alerts.md): a reach of
# one edit (EVIDENCE_MAX) left 4x the false lost trucks of the rule before; EVIDENCE_MARGIN
# (0.8) for the rivals, 2-10x those of MARGIN, at the same recall.
EXIT_REACH = CORROBORATED_MAX
EXIT_MARGIN = MARGIN
# Two passes read by one camera this close in time are one truck, when their plates are
# within TWIN_REACH of each other (the matcher's bound for one truck's reads, one arbitrary
# edit): some of its reads misread alike made a pass of their own (`Trucks.twin`). A
# camera's reads of one truck come seconds apart. Chosen on bench/holdout.py's TUNING error
# models (bench/alerts_noise.py, docs/alerts.md): two edits (EXIT_REACH) also took two
# trucks nose to tail, 2 s apart at a gate-in camera, for one, and hid an injected lost
# truck; one edit and 30 s found the same twins as one edit and 10 s.
TWIN_REACH = EVIDENCE_MAX
SAME_MOMENT = timedelta(seconds=10)


def exit_cost(texts: Iterable[str], plate: str) -> float:
    """What an exit read showing `texts` costs under "it is the truck of `plate`": its
    cheapest text, priced either way round (a pass's plate may itself be a read's own text,
    a row read alone, when the matcher attributed none of its reads)."""
    return min(min(text_cost(t, plate), text_cost(plate, t)) for t in texts)


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

    def history(self, manifest_id: str) -> tuple[ManifestVersion, ...]:
        """Every version of the manifest given, in the order received."""
        return tuple(self._history.get(manifest_id, ()))

    def declares(self, plate: str) -> bool:
        """Whether a manifest version names `plate` as its tractor's."""
        return plate in self._by_plate

    def as_of(
        self, plate: str, at: datetime
    ) -> tuple[Manifest, tuple[ManifestVersion, ...]] | None:
        """The manifest declaring tractor `plate` as it stood at `at` (the one whose window
        holds `at`, else the nearest window), with its versions received before then (a
        version received at the events' clock `at` came after the reads of `at`)."""
        fits = []
        for manifest_id in self._by_plate.get(plate, ()):
            known = [v for v in self._history[manifest_id] if v.received_at < at]
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

    def misread(self, p: Pass, until: datetime, trucks: Trucks) -> list[str]:
        """Ids of exit reads at `p`'s gate in (p.first_at, until] that stand for `p` misread:
        within `EXIT_REACH` of its plate (`exit_cost`), and every other pass open then
        (`trucks`) further by `EXIT_MARGIN` and none of its texts shown. Another truck's
        exit read is then seldom taken for this one, however it was misread: it is nearer
        to its own truck, which was open at the exit then too."""
        timeline = self._timeline.get(p.gate_id, [])
        found = []
        for at, event_id, texts in timeline[bisect_right(timeline, (p.first_at, "\uffff")) :]:
            if at > until:
                break
            mine = exit_cost(texts, p.plate)
            if mine > EXIT_REACH:
                continue
            if all(
                q.plate == p.plate
                or (
                    set(texts).isdisjoint(q.texts)
                    and exit_cost(texts, q.plate) >= mine + EXIT_MARGIN
                )
                for q in trucks.open_at(p.gate_id, at)
            ):
                found.append(event_id)
        return found


class Trucks:
    """The passes of a window by gate, to ask which trucks were between the gate and the
    exit (entered, not yet due out: `expected_transit + transit_margin` after their last
    inbound read) at a time."""

    def __init__(self, found: Iterable[Pass], allowed: timedelta) -> None:
        """`found` is indexed when first asked (`twin`, `open_at`): most calls of the
        alert rules ask nothing (every truck due out was read at the exit), and the index
        of a whole window, built on every batch, cost more than the rules (issue 26)."""
        self._allowed = allowed
        self._found: Iterable[Pass] | None = found
        self._by_gate: dict[str, list[tuple[datetime, str, Pass]]] = {}
        self._firsts: dict[str, list[datetime]] = {}
        self._longest = timedelta(0)

    def _index(self) -> None:
        if self._found is None:
            return
        found, self._found = self._found, None
        for p in found:
            self._by_gate.setdefault(p.gate_id, []).append((p.first_at, p.plate, p))
            self._longest = max(self._longest, p.last_at - p.first_at)
        for gate_id, entries in self._by_gate.items():
            entries.sort(key=lambda e: (e[0], e[1]))
            self._firsts[gate_id] = [e[0] for e in entries]

    def twin(self, p: Pass, exits: Exits) -> Pass | None:
        """Another pass that is `p`'s truck, which an exit camera read: at `p`'s gate and
        direction, its plate within `TWIN_REACH` of `p`'s (`exit_cost`), read by a camera
        that read `p` within `SAME_MOMENT` of that read, with an exit read showing its
        texts while it was due. `p` is then that truck's reads misread alike (a split
        pass), not a truck of its own that vanished."""
        self._index()
        entries = self._by_gate.get(p.gate_id, [])
        firsts = self._firsts.get(p.gate_id, [])
        low = bisect_left(firsts, p.first_at - self._longest - SAME_MOMENT)
        high = bisect_right(firsts, p.last_at + SAME_MOMENT)
        for _, _, q in entries[low:high]:
            if (
                q.plate == p.plate
                or q.direction is not p.direction
                or exit_cost((q.plate,), p.plate) > TWIN_REACH
                or not _read_together(p, q)
            ):
                continue
            if exits.between(q.texts, q.first_at, q.last_at + self._allowed):
                return q
        return None

    def open_at(self, gate_id: str, at: datetime) -> Iterable[Pass]:
        """The passes at `gate_id` that entered before `at` and were due out at `at` or
        later."""
        self._index()
        entries = self._by_gate.get(gate_id, [])
        earliest = at - self._allowed - self._longest
        i = bisect_left(self._firsts.get(gate_id, []), at)
        for k in range(i - 1, -1, -1):
            first_at, _, p = entries[k]
            if first_at < earliest:
                break
            if p.last_at + self._allowed >= at:
                yield p


def _read_together(p: Pass, q: Pass) -> bool:
    """Whether a camera read `p` and `q` within `SAME_MOMENT` of each other."""
    return any(
        s.camera_id == t.camera_id and abs(s.at - t.at) <= SAME_MOMENT
        for s in p.sightings
        for t in q.sightings
    )
