"""The decide-reads use case's alert step (deciding.py): after a batch's decisions, in the
same transaction, the rules of `lanes.alerts` (the one copy, also used by the simulation
bench and the replay) run over each gate's observations up to the gate's clock (the
batch's newest read there: event time). New alerts are stored (one per rule and subject)
for the outbox; an alert whose rule holds the truck takes the truck's queued decision back
to review with the control room's own `hold` (lanes.actions), which the decision outbox
then publishes as a revision.

Why a step of the decider and not a worker of its own: the decider already holds the gate's
lock, the batch's transaction, the reads resolved to their trucks, and the decisions a hold
revises; and the replay runs the decider itself, so a replay raises the same alerts with no
second recording of inputs (docs/alerts.md)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from lanes.alerts import Alert, AlertRules, Observations, evaluate
from lanes.alerts.evaluate import first_alerts, judged_at, lookback
from lanes.alerts.hold import hold_for
from lanes.alerts.incremental import Incremental
from lanes.model import Gate, LaneDecision, Outcome
from lanes.settle import settle
from services.ports import GateStore

log = logging.getLogger(__name__)


def rules_of(gate: Gate) -> AlertRules:
    return gate.alert_rules or AlertRules(utc_offset=gate.utc_offset)


class AlertStep:
    """`incremental`: judge only what changed since the last batch (`lanes.alerts.
    incremental`: the same new alerts as `evaluate`), for a store that keeps every alert
    it was given, as the replay's memory adapter does; the live decider, whose batch may
    roll back after the rules ran, judges the whole look-back of reads every batch (kept in
    the worker, not read again: `services.alerts.kept_window`), and of the booking changes
    those of the firms whose week changed (the SQL adapter's `services.alerts.kept`; both
    forgotten on a rollback)."""

    def __init__(self, gates: Mapping[str, Gate], *, incremental: bool = False) -> None:
        self.gates = dict(gates)
        self.raised = 0
        self.held = 0
        self._incremental: dict[str, Incremental] | None = {} if incremental else None
        # each gate's last time judged, or (never judged yet) its oldest read seen; what the
        # batch in hand would make them, kept when its transaction commits
        self._judged: dict[str, datetime] = {}
        self._from: dict[str, datetime] = {}
        self._judged_now: dict[str, datetime] = {}
        self._from_now: dict[str, datetime] = {}

    def committed(self) -> None:
        self._judged.update(self._judged_now)
        self._from.update(self._from_now)
        self.rolled_back()

    def rolled_back(self) -> None:
        self._judged_now, self._from_now = {}, {}

    def _times(
        self,
        gate_id: str,
        rules: AlertRules,
        *,
        first: datetime,
        newest: datetime,
        limit: datetime,
    ) -> list[datetime]:
        """When the gate is judged for this batch (its reads from `first` to `newest`):
        from its last time judged (or, never judged yet, its oldest read seen) to `limit`,
        every visit window and at `limit` (`lanes.alerts.judged_at`); at its last time
        judged again when `limit` is not past it (a late read, or a watermark held back).
        None before its oldest read seen. Reads all older than the look-back from the last
        time judged (a day sent after a later one, a camera's hours sent late), which that
        judging could not see, are judged on their own, at their own times, up to their
        newest read; the gate's judging goes on from where it was."""
        last = self._judged.get(gate_id)
        if last is not None and newest < last - lookback(rules):
            return judged_at(first, newest, rules)
        if last is not None:
            times = judged_at(last, limit, rules) if limit > last else [last]
        else:
            start = min(first, self._from.get(gate_id, first))
            self._from_now[gate_id] = start
            times = judged_at(start, limit, rules) if limit >= start else []
        if times:
            self._judged_now[gate_id] = times[-1]
        return times

    async def run(
        self,
        store: GateStore,
        *,
        clocks: Mapping[str, datetime],
        gate_clocks: Mapping[str, datetime] | None = None,
        firsts: Mapping[str, datetime] | None = None,
        watermark: datetime | None = None,
        decided: Sequence[LaneDecision] = (),
        stored_at: datetime,
    ) -> tuple[list[Alert], list[LaneDecision]]:
        """The new alerts of each gate, and the decisions their holds revised: the trucks
        of new holding alerts, and the trucks `decided` in this batch that an open holding
        alert raised earlier is about. The rules judge up to the gate's clock or the
        `watermark`, whichever is earlier (up to it every partition of the reads has been
        read: a truck is not lost for an exit read still to come), and along the way from
        the last time judged (`_times`); `firsts`: each gate's oldest read of the batch;
        `gate_clocks`: each gate's clock as the batch leaves it, when the caller knows it
        (the decider: the newer of the stored clock and the batch's newest read), else
        read from the store.
        Holds are applied at the gate's clock. `stored_at`: the wall clock, kept with the
        new alerts (operations only)."""
        self.rolled_back()
        new: list[Alert] = []
        revised: list[LaneDecision] = []
        for gate_id, batch_now in sorted(clocks.items()):
            gate = self.gates[gate_id]
            rules = rules_of(gate)
            # the gate's clock never goes back: a batch of older reads (another partition's)
            # is judged at the newest time the gate has seen
            known = (gate_clocks or {}).get(gate_id)
            stored = known if known is not None else await store.gate_clock(gate_id)
            now = max(batch_now, stored or batch_now)
            limit = now if watermark is None else min(now, watermark)
            first = (firsts or {}).get(gate_id, batch_now)
            times = self._times(gate_id, rules, first=first, newest=batch_now, limit=limit)
            judged: list[Alert] = []
            for at in times:
                judged += self._evaluate(gate, await store.observations(gate, rules, now=at), at)
            found = first_alerts(judged)
            mine = [a for a in found if a.gate_id in (gate_id, None)]
            fresh = await store.add_alerts(mine, now=stored_at)
            held: set[str] = set()
            for alert in fresh:
                if alert.hold:
                    decision = await self._hold(store, gate, alert, now=now)
                    if decision is not None:
                        revised.append(decision)
                        held.add(decision.visit_id)
            waiting = [d for d in decided if d.gate_id == gate_id and d.visit_id not in held]
            subjects = {d.visit_id: _subjects(d) for d in waiting}
            holds = await store.open_holds(gate_id, [s for v in subjects.values() for s in v])
            for d in waiting:
                if d.visit_id in held:
                    continue
                # the oldest open holding alert about the truck (holding it leaves it open)
                open_alert = next((a for a in holds if a.subject in subjects[d.visit_id]), None)
                if open_alert is not None:
                    decision = await self._hold(store, gate, open_alert, now=now)
                    if decision is not None:
                        revised.append(decision)
                        held.add(decision.visit_id)
            new += fresh
        self.raised += len(new)
        self.held += len(revised)
        return new, revised

    def _evaluate(self, gate: Gate, observations: Observations, now: datetime) -> tuple[Alert, ...]:
        if self._incremental is None:
            return evaluate(observations, rules_of(gate), now=now)
        judge = self._incremental.get(gate.gate_id)
        if judge is None:
            judge = self._incremental[gate.gate_id] = Incremental(rules_of(gate))
        return judge(observations, now=now)

    async def _hold(
        self, store: GateStore, gate: Gate, alert: Alert, *, now: datetime
    ) -> LaneDecision | None:
        """The truck the alert is about, taken out of its queue back to review; None when
        it has no queued decision (not decided yet, in review already, or gone through)."""
        latest = await store.latest_decision(gate.gate_id, alert.subject)
        if latest is None or latest.outcome is not Outcome.ASSIGNED:
            return None  # not decided yet (held when it is), or in review already
        board = settle(await store.board(gate), gate, now=now)
        applied = hold_for(latest, alert, board=board, now=now)
        if applied is None:  # through its lane already
            return None
        await store.save_board(gate.gate_id, applied.board, now=now)
        await store.revise_decisions([applied.decision])
        await store.set_held(alert.alert_id, latest.visit_id)
        log.info("truck %s held by alert %s (%s)", latest.visit_id, alert.alert_id, alert.rule)
        return applied.decision


def _subjects(decision: LaneDecision) -> tuple[str, ...]:
    """What an alert about the decided truck is about: its plate, and its manifest if any."""
    plate = f"plate:{decision.plate}"
    return (plate, f"manifest:{decision.manifest_id}") if decision.manifest_id else (plate,)
