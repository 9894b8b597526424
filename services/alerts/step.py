"""The decider's alert step: after a batch's decisions, in the same transaction, the rules
of `lanes.alerts` (the one copy, also used by the simulation bench and the replay) run over
each gate's observations up to the gate's clock (the batch's newest read there: event
time). New alerts are stored (one per rule and subject) for the outbox; an alert whose rule
holds the truck takes the truck's queued decision back to review with the control room's
own `hold` (lanes.actions), which the decision outbox then publishes as a revision.

Why a step of the decider and not a worker of its own: the decider already holds the gate's
lock, the batch's transaction, the reads resolved to their trucks, and the decisions a hold
revises; and the replay runs the decider itself, so a replay raises the same alerts with no
second recording of inputs (docs/alerts.md)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.alerts import Alert, AlertRules, evaluate
from lanes.alerts.hold import hold_for
from lanes.board_json import board_to_json
from lanes.model import Gate, LaneDecision, Outcome
from lanes.settle import settle
from services.alerts import store
from services.alerts.observations import observations
from services.db import boards
from services.db.boards import load_gate_board
from services.db.convert import decision_from_row
from services.db.tables import DecisionRow, VisitRow
from streams import clock

log = logging.getLogger(__name__)


def rules_of(gate: Gate) -> AlertRules:
    return gate.alert_rules or AlertRules()


class AlertStep:
    def __init__(self, gates: Mapping[str, Gate]) -> None:
        self.gates = dict(gates)
        self.raised = 0
        self.held = 0

    async def run(
        self,
        session: AsyncSession,
        *,
        clocks: Mapping[str, datetime],
        decided: Sequence[LaneDecision] = (),
    ) -> tuple[list[Alert], list[LaneDecision]]:
        """The new alerts of each gate at its clock, and the decisions their holds revised:
        the trucks of new holding alerts, and the trucks `decided` in this batch that an
        open holding alert raised earlier is about."""
        new: list[Alert] = []
        revised: list[LaneDecision] = []
        for gate_id, batch_now in sorted(clocks.items()):
            gate = self.gates[gate_id]
            # the gate's clock never goes back: a batch of older reads (another partition's)
            # is judged at the newest time the gate has seen
            now = max(batch_now, await _gate_clock(session, gate_id) or batch_now)
            found = evaluate(
                await observations(session, gate, rules_of(gate), now=now), rules_of(gate), now=now
            )
            mine = [a for a in found if a.gate_id in (gate_id, None)]
            fresh = await store.insert_new(session=session, alerts=mine, now=clock.wall_clock())
            held: set[str] = set()
            for alert in fresh:
                if alert.hold:
                    decision = await self._hold(session, gate, alert, now=now)
                    if decision is not None:
                        revised.append(decision)
                        held.add(decision.visit_id)
            for d in decided:
                if d.gate_id != gate_id or d.visit_id in held:
                    continue
                subjects = [f"plate:{d.plate}"] + (
                    [f"manifest:{d.manifest_id}"] if d.manifest_id else []
                )
                alert_row = await store.open_hold(
                    session=session, gate_id=gate_id, subjects=subjects
                )
                if alert_row is not None:
                    decision = await self._hold(session, gate, store.to_alert(alert_row), now=now)
                    if decision is not None:
                        revised.append(decision)
                        held.add(decision.visit_id)
            new += fresh
        self.raised += len(new)
        self.held += len(revised)
        return new, revised

    async def _hold(
        self, session: AsyncSession, gate: Gate, alert: Alert, *, now: datetime
    ) -> LaneDecision | None:
        """The truck the alert is about, taken out of its queue back to review; None when
        it has no queued decision (not decided yet, in review already, or gone through)."""
        row = await _latest_decision(session, gate.gate_id, alert.subject)
        if row is None or row.outcome != Outcome.ASSIGNED.value:
            return None  # not decided yet (held when it is), or in review already
        board = settle(await load_gate_board(session, gate), gate, now=now)
        applied = hold_for(decision_from_row(row), alert, board=board, now=now)
        if applied is None:  # through its lane already
            return None
        await boards.save_board(
            session=session, gate_id=gate.gate_id, board=board_to_json(applied.board), now=now
        )
        await boards.revise_decisions(session=session, decisions=[applied.decision])
        await store.set_held(session=session, alert_id=alert.alert_id, visit_id=row.visit_id)
        log.info("truck %s held by alert %s (%s)", row.visit_id, alert.alert_id, alert.rule)
        return applied.decision


async def _gate_clock(session: AsyncSession, gate_id: str) -> datetime | None:
    value = await session.scalar(
        select(func.max(VisitRow.last_seen_at)).where(VisitRow.gate_id == gate_id)
    )
    if isinstance(value, datetime) and value.tzinfo is None:  # SQLite drops the zone
        return value.replace(tzinfo=UTC)
    return value


async def _latest_decision(session: AsyncSession, gate_id: str, subject: str) -> DecisionRow | None:
    kind, _, value = subject.partition(":")
    column = {"plate": DecisionRow.plate, "manifest": DecisionRow.manifest_id}.get(kind)
    if column is None:
        return None
    rows: Sequence[DecisionRow] = list(
        await session.scalars(
            select(DecisionRow)
            .where(DecisionRow.gate_id == gate_id, column == value)
            .order_by(DecisionRow.decided_at.desc(), DecisionRow.visit_id)
            .limit(1)
        )
    )
    return rows[0] if rows else None
