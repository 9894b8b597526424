"""The alert rules call after call on one gate's observations as event time goes on (the
decider's alert step in the replay, issue 26 item 4): only the plates whose inputs changed
since the last call are judged again, not the whole look-back.

`Incremental(rules)(observations, now=...)` gives `evaluate(observations, rules, now=...)`
less some alerts that an earlier call gave already. Whatever was not given before is given
exactly as `evaluate` gives it, in its order: the alert step stores only alerts it has not
stored yet, so it raises the same alerts as with `evaluate`. Why that holds: a plate's
alerts (a clone, a lost truck, a swap, a late amendment) depend only on its inbound reads
in the window, the exit reads showing its texts, which gates read exits and containers at
all, the manifest versions declaring its tractor plate, and `now` for a lost truck's due
time; and for a lost truck, the exit reads that may be its plate misread and the other
passes open at their times (`Exits.misread`): a truck already due out is judged again when
a pass that was open while it was (at its gate) came, went or changed. A plate none of
these changed for gives what it gave on the last call; every alert of it was given then.
A weighing's alert (overweight) depends only on it and on the manifest versions declaring
its texts: it is judged when it comes and again when the versions of a manifest naming one
of its texts change. Booking changes are judged
in full on every call.

The objects of `observations` are recognised by identity (the memory adapter gives the
same `Sighting` and `ManifestVersion` objects call after call); new objects are new
inputs, which is slower, never wrong. A `now` older than the last call's starts over.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from datetime import datetime, timedelta
from operator import attrgetter

from lanes.alert_rules import AlertRules
from lanes.alerts.bookings import bursts, no_show_rates, rebook_jumps
from lanes.alerts.cargo import (
    customs_pending,
    late_amendments,
    overweight,
    portal_containers,
    swaps,
)
from lanes.alerts.evaluate import first_alerts
from lanes.alerts.given import Given
from lanes.alerts.model import Alert, ManifestVersion, Observations, Sighting, WeighIn
from lanes.alerts.passes import INBOUND, Declarations, Exits, Pass, Trucks, passes
from lanes.alerts.plates import clones, lost_trucks
from lanes.values import CameraRole


class Incremental:
    def __init__(self, rules: AlertRules | None = None) -> None:
        self.rules = rules or AlertRules()
        self._start()

    def _start(self) -> None:
        self._now: datetime | None = None
        self._sightings: Given[Sighting] = Given(attrgetter("at"))  # the last window's
        self._inbound: dict[str, dict[int, Sighting]] = {}  # plate -> its inbound reads
        self._texts: dict[str, dict[str, int]] = {}  # text -> plate -> inbound reads showing it
        self._exits = Exits()
        # received by the last `now`
        self._versions: Given[ManifestVersion] = Given(attrgetter("received_at"))
        self._history: dict[str, dict[int, ManifestVersion]] = {}  # manifest -> its versions
        self._tractors: dict[str, set[str]] = {}  # tractor plate -> manifests naming it
        self._passes: dict[str, list[Pass]] = {}  # plate -> its passes
        # (due out, plate, n): the n-th pass of each plate by its lost-truck due time
        self._by_due: list[tuple[datetime, str, int]] = []
        self._longest = timedelta(0)  # the longest pass so far (first to last read)
        self._portal: dict[str, set[str]] = {}  # plate -> gates its passes read containers at
        self._dues: list[tuple[datetime, str]] = []  # (a pass's lost-truck due time, plate)
        self._weighings: Given[WeighIn] = Given(attrgetter("at"))  # the last window's
        # (gate, from, to): when a pass that came, went or changed was open (entered, not
        # yet due out): an exit read then may stand for another truck now (`Exits.misread`)
        self._changed: list[tuple[str, datetime, datetime]] = []

    def __call__(self, observations: Observations, *, now: datetime) -> tuple[Alert, ...]:
        if self._now is not None and now < self._now:
            self._start()
        o, rules = observations, self.rules
        exits_before, reading_before = self._exits.gates(), self._reading()
        dirty: set[str] = set()
        texts: set[str] = set()  # texts of exit reads that came or went
        gone, came = self._sightings.move(o.sightings, now)
        for s in gone:
            self._count(s, -1, dirty, texts)
        for s in came:
            self._count(s, 1, dirty, texts)
        for text in texts:
            dirty.update(self._texts.get(text, ()))
        declared = self._declared(*self._versions.move(o.manifests, now))
        dirty |= declared
        while self._dues and self._dues[0][0] <= now:
            dirty.add(heapq.heappop(self._dues)[1])
        self._recount(dirty, now=now)
        if self._exits.gates() != exits_before or self._reading() != reading_before:
            everything = set(self._inbound) | set(self._passes)
            self._recount(everything - dirty, now=now)
            dirty = everything
        self._now = now

        found = sorted(
            (p for plate in dirty for p in self._passes.get(plate, ())),
            key=lambda p: (p.first_at, p.plate, p.gate_id),
        )
        allowed = rules.expected_transit + rules.transit_margin
        judged = self._judged(dirty, now=now, allowed=allowed)
        # every pass of the window, for `Trucks`, which reads it only when a rule asks
        everyone = (p for mine in self._passes.values() for p in mine)
        # a weighing's alert depends on it and on the manifests declaring its texts then:
        # judged when it comes, and again when those manifests' versions change
        _, came_weighed = self._weighings.move(o.weighings, now)
        fresh = {id(w) for w in came_weighed}
        weighings = [
            w
            for w in self._weighings.kept.values()
            if id(w) in fresh or not declared.isdisjoint((w.plate, *w.alternatives))
        ]
        changes = [c for c in o.bookings if c.at <= now]
        wanted = dirty | {t for w in weighings for t in (w.plate, *w.alternatives)}
        ids = {m for plate in wanted for m in self._tractors.get(plate, ())}
        versions = Declarations([v for m in ids for v in self._history[m].values()])
        return first_alerts(
            [
                *clones(found, self._exits, rules, versions),
                *lost_trucks(
                    [*found, *judged], self._exits, rules, now=now, trucks=Trucks(everyone, allowed)
                ),
                *swaps(found, versions, reading=self._reading()),
                *late_amendments(found, versions, rules),
                *customs_pending(found, versions, rules),
                *overweight(weighings, versions, rules),
                *no_show_rates(changes, rules),
                *rebook_jumps(changes, rules),
                *bursts(changes, rules),
            ]
        )

    def _judged(self, dirty: set[str], *, now: datetime, allowed: timedelta) -> list[Pass]:
        """The passes, of plates not `dirty`, of a truck already due out whose exit read
        may now stand for a pass that changed (at its gate, open while it was); clears
        the changes. Only the passes due since the earliest change began are looked at
        (`_by_due`), not the window's every pass on every batch (issue 26)."""
        spans: dict[str, list[tuple[datetime, datetime]]] = {}
        for gate_id, start, end in self._changed:
            spans.setdefault(gate_id, []).append((start, end))
        self._changed = []
        if not spans:
            return []
        # a pass that overlaps a change [start, end] is due out in [start, end + allowed +
        # the longest pass] (its first read is at least `allowed` plus its length before
        # that): only the passes due in those spans are looked at, in `_by_due`
        reach = allowed + self._longest
        spells = sorted(
            (start, min(now, end + reach)) for here in spans.values() for start, end in here
        )
        # per gate, the changes by start, with the latest end of those begun by each: a
        # pass due at `due` overlaps one if its first read is before the latest end of
        # the changes begun by `due`
        begun: dict[str, tuple[list[datetime], list[datetime]]] = {}
        for gate_id, here in spans.items():
            here.sort()
            ends = list(itertools.accumulate((e for _, e in here), max))
            begun[gate_id] = ([s for s, _ in here], ends)
        by_due, judged = self._by_due, []
        done = 0  # the entries before it were looked at
        for start, stop in spells:
            k = max(done, bisect.bisect_left(by_due, (start,)))
            while k < len(by_due) and by_due[k][0] <= stop:
                due, plate, n = by_due[k]
                k += 1
                if plate in dirty:
                    continue
                p = self._passes[plate][n]
                if (found := begun.get(p.gate_id)) is None:
                    continue
                starts, ends = found
                i = bisect.bisect_right(starts, due)
                if i and p.first_at <= ends[i - 1]:
                    judged.append(p)
            done = max(done, k)
        return judged

    def _count(self, s: Sighting, sign: int, dirty: set[str], texts: set[str]) -> None:
        """A read into the window (`sign` 1) or out of it (-1)."""
        shown = dict.fromkeys((s.plate, *s.alternatives))
        if s.role is CameraRole.EXIT:
            if sign > 0:
                self._exits.add(s)
            else:
                self._exits.remove(s)
            texts.update(shown)
            return
        if s.role not in INBOUND or not s.plate:
            return
        mine = self._inbound.setdefault(s.plate, {})
        if sign > 0:
            mine[id(s)] = s
        else:
            del mine[id(s)]
            if not mine:
                del self._inbound[s.plate]
        dirty.add(s.plate)
        for text in shown:
            plates = self._texts.setdefault(text, {})
            plates[s.plate] = plates.get(s.plate, 0) + sign
            if not plates[s.plate]:
                del plates[s.plate]
                if not plates:
                    del self._texts[text]

    def _declared(self, gone: list[ManifestVersion], came: list[ManifestVersion]) -> set[str]:
        """Takes the versions that left and came; the tractor plates of the manifests whose
        versions changed (before and after)."""
        changed = {v.manifest.manifest_id for v in (*gone, *came)}
        before = {m: self._plates(m) for m in changed}
        for v in gone:
            del self._history[v.manifest.manifest_id][id(v)]
        for v in came:
            self._history.setdefault(v.manifest.manifest_id, {})[id(v)] = v
        touched: set[str] = set()
        for m in changed:
            after = self._plates(m)
            if not self._history.get(m, True):
                del self._history[m]
            for plate in before[m] - after:
                self._tractors[plate].discard(m)
                if not self._tractors[plate]:
                    del self._tractors[plate]
            for plate in after:
                self._tractors.setdefault(plate, set()).add(m)
            touched |= before[m] | after
        return touched

    def _plates(self, manifest_id: str) -> set[str]:
        return {v.manifest.tractor_plate for v in self._history.get(manifest_id, {}).values()}

    def _recount(self, plates: set[str], *, now: datetime) -> None:
        """The passes of `plates` again, from their inbound reads in the window."""
        allowed = self.rules.expected_transit + self.rules.transit_margin
        for plate in plates:
            mine = self._inbound.get(plate)
            found = passes(list(mine.values()), self.rules) if mine else []
            before = self._passes.get(plate, [])
            if found != before:
                self._changed.extend(
                    (p.gate_id, p.first_at, p.last_at + allowed)
                    for p in {*before, *found} - ({*before} & {*found})
                )
                for n, p in enumerate(before):
                    del self._by_due[
                        bisect.bisect_left(self._by_due, (p.last_at + allowed, plate, n))
                    ]
                for n, p in enumerate(found):
                    bisect.insort(self._by_due, (p.last_at + allowed, plate, n))
                    self._longest = max(self._longest, p.last_at - p.first_at)
            if found:
                self._passes[plate] = found
            else:
                self._passes.pop(plate, None)
            gates = portal_containers(found)
            if gates:
                self._portal[plate] = gates
            else:
                self._portal.pop(plate, None)
            for p in found:
                if p.last_at + allowed > now:
                    heapq.heappush(self._dues, (p.last_at + allowed, plate))

    def _reading(self) -> set[str]:
        """The gates where a pass in the window had a container read at the portal."""
        return set().union(*self._portal.values())
