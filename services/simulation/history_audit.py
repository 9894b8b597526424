"""The controllers' actions of a simulated day, as the audit log keeps them (for
`services.simulation.history`): a hold of one truck in `hold_every`, five minutes after it
arrived (its `after` decision revised again since, so no review item reads it), and each
lane and each carrier taken out and put back every three hours. Each entry is hash-chained
to the one before (services/db/audit.py), so the log of the history verifies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lanes.model import Gate
from services.db.audit import GENESIS, entry_fields, entry_hash
from services.db.control_tables import AuditRow
from services.simulation.plan import SimulatedTruck

DAY = timedelta(days=1)
HOLD_AFTER = timedelta(minutes=5)
CHANGE_EVERY = timedelta(minutes=90)  # a lane out, then back, every 3 hours
_COLUMNS = ("seq", "at", "actor", "action", "gate_id", "target", "reason", "details")


@dataclass(frozen=True, slots=True)
class ChainEnd:
    """The last entry written: the next one follows it."""

    seq: int = 0
    hash: str = GENESIS


def audit_day(
    gate: Gate,
    trucks: Sequence[SimulatedTruck],
    *,
    day: int,
    start: datetime,
    hold_every: int,
    end: ChainEnd,
) -> tuple[list[dict[str, Any]], ChainEnd]:
    """The day's entries from `start`, in time order, following `end`; and the new end."""
    actions = sorted(
        _holds(trucks, day, hold_every, start + DAY) + _board_changes(gate, start),
        key=lambda a: a[:3],
    )
    rows = []
    for at, action, target, details in actions:
        row = AuditRow(
            seq=end.seq + 1,
            at=at,
            actor="history",
            action=action,
            gate_id=gate.gate_id,
            target=target,
            reason="history",
            details=details,
            prev_hash=end.hash,
        )
        row.hash = entry_hash(entry_fields(row))
        rows.append({c: getattr(row, c) for c in (*_COLUMNS, "prev_hash", "hash")})
        end = ChainEnd(row.seq, row.hash)
    return rows, end


_Action = tuple[datetime, str, str, dict[str, Any]]


def _holds(
    trucks: Sequence[SimulatedTruck], day: int, every: int, day_end: datetime
) -> list[_Action]:
    out: list[_Action] = []
    for t in trucks[::every]:
        visit_id = f"h{day:03d}-{t.truck_no:05d}"
        before = {"decision_id": f"d-{visit_id}", "outcome": "assigned"}
        after = {"decision_id": f"d-{visit_id}-held", "outcome": "needs_review"}
        details = {"before": before, "after": after, "plate": t.plate}
        at = min(t.arrival + HOLD_AFTER, day_end - timedelta(seconds=1))
        out.append((at, "hold", visit_id, details))
    return out


def _board_changes(gate: Gate, start: datetime) -> list[_Action]:
    pairs = [(lane.lane_id, ("close_lane", "open_lane")) for lane in gate.lanes]
    if gate.fleet is not None:
        pairs += [(c.carrier_id, ("carrier_out", "carrier_back")) for c in gate.fleet.carriers]
    out: list[_Action] = []
    for n in range(DAY // CHANGE_EVERY):
        at = start + n * CHANGE_EVERY
        for i, (target, actions) in enumerate(pairs):
            event_id = f"le-h-{target}-{at:%Y%m%d%H%M}"
            details = {"lane_event_id": event_id}
            out.append((at + timedelta(seconds=i), actions[n % 2], target, details))
    return out
