"""Called places (issue 23, `called_places`): the call-forward worker writes each truck's
latest call with its queue; the gate's decider reads the calls of its gate to send a called
truck where it was called. Also the JSON form a decider batch records them in
(`archive_batches.calls`), so the replay is told the same calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.policy.callforward import CALL_HOLDS_PAST_DEADLINE, CalledPlace
from services.db.call_tables import CalledPlaceRow


async def called_places(
    *, session: AsyncSession, gate_id: str, since: datetime, until: datetime
) -> list[CalledPlace]:
    """The gate's calls that may name a truck reaching the gate within [since, until]:
    made by `until`, their deadline not more than `CALL_HOLDS_PAST_DEADLINE` before
    `since`; by manifest."""
    rows = await session.scalars(
        select(CalledPlaceRow)
        .where(
            CalledPlaceRow.gate_id == gate_id,
            CalledPlaceRow.deadline >= since - CALL_HOLDS_PAST_DEADLINE,
            CalledPlaceRow.called_at <= until,
        )
        .order_by(CalledPlaceRow.manifest_id)
    )
    return [CalledPlace(r.manifest_id, r.lane_id, r.call_id, r.called_at, r.deadline) for r in rows]


def called_after(
    kept: Mapping[str, tuple[CalledPlace, bool]],
    calls: Sequence[CalledPlace],
    *,
    arrived: Iterable[str],
    purge_before: datetime | None,
    reached: Sequence[CalledPlace] = (),
) -> dict[str, tuple[CalledPlace, bool]]:
    """A gate's calls (manifest id -> (call, arrived)) after a call-forward batch: `calls`,
    the trucks called and on their way (each manifest's latest), replace what was kept; the
    calls of `arrived` (manifests whose truck reached the gate) are kept, marked, and
    `reached`, the call each such truck held when it reached the gate, is kept so too (a
    call made in the batch that saw the truck reach the gate was never kept before: until
    2026-12-06 it was lost, and the decider sent the truck where its policy alone said);
    every other call not marked arrived is dropped (withdrawn: the place lost, or the lane
    closed), and so is every call whose deadline is before `purge_before`. The one rule of
    both adapters."""
    at_gate = set(arrived) | {c.manifest_id for c in reached}
    out = {m: (call, was or m in at_gate) for m, (call, was) in kept.items() if m in at_gate or was}
    out |= {c.manifest_id: (c, True) for c in reached}
    out |= {c.manifest_id: (c, False) for c in calls}
    return {
        m: kept_call
        for m, kept_call in sorted(out.items())
        if purge_before is None or kept_call[0].deadline >= purge_before
    }


async def save_called(
    *,
    session: AsyncSession,
    gate_id: str,
    calls: Sequence[CalledPlace],
    arrived: Iterable[str],
    purge_before: datetime | None,
    now: datetime,
    reached: Sequence[CalledPlace] = (),
) -> None:
    """`called_after` on the gate's rows: the rows that change are written, the others
    left as they are."""
    rows = {
        r.manifest_id: r
        for r in await session.scalars(
            select(CalledPlaceRow).where(CalledPlaceRow.gate_id == gate_id)
        )
    }
    kept = {m: (_place(r), r.arrived) for m, r in rows.items()}
    after = called_after(kept, calls, arrived=arrived, purge_before=purge_before, reached=reached)
    for manifest_id, row in rows.items():
        if manifest_id not in after:
            await session.delete(row)
    for manifest_id, (call, was) in after.items():
        found = rows.get(manifest_id)
        if found is None:
            session.add(_row(gate_id, call, arrived=was, now=now))
        elif kept[manifest_id] != (call, was):
            found.call_id, found.lane_id = call.call_id, call.lane_id
            found.called_at, found.deadline = call.called_at, call.deadline
            found.arrived, found.updated_at = was, now
    await session.flush()


def _place(row: CalledPlaceRow) -> CalledPlace:
    return CalledPlace(row.manifest_id, row.lane_id, row.call_id, row.called_at, row.deadline)


def _row(gate_id: str, call: CalledPlace, *, arrived: bool, now: datetime) -> CalledPlaceRow:
    return CalledPlaceRow(
        gate_id=gate_id,
        manifest_id=call.manifest_id,
        call_id=call.call_id,
        lane_id=call.lane_id,
        called_at=call.called_at,
        deadline=call.deadline,
        arrived=arrived,
        updated_at=now,
    )


async def replace_called(
    *, session: AsyncSession, calls: Mapping[str, Sequence[CalledPlace]], now: datetime
) -> None:
    """The table holds exactly `calls` (by gate): what the replay's sandbox database is told
    before each recorded batch."""
    await session.execute(delete(CalledPlaceRow))
    session.add_all(
        _row(gate_id, p, arrived=False, now=now)
        for gate_id, places in calls.items()
        for p in places
    )
    await session.flush()


def calls_json(calls: Mapping[str, Sequence[CalledPlace]]) -> dict[str, Any]:
    """The calls a batch was told, by gate, as JSON values."""
    return {
        gate_id: [
            {
                "manifest_id": p.manifest_id,
                "lane_id": p.lane_id,
                "call_id": p.call_id,
                "called_at": p.called_at.isoformat(),
                "deadline": p.deadline.isoformat(),
            }
            for p in places
        ]
        for gate_id, places in sorted(calls.items())
    }


def calls_parse(data: Mapping[str, Any] | None) -> dict[str, list[CalledPlace]]:
    """`calls_json` read back (None: none)."""
    return {
        gate_id: [
            CalledPlace(
                p["manifest_id"],
                p["lane_id"],
                p["call_id"],
                datetime.fromisoformat(p["called_at"]),
                datetime.fromisoformat(p["deadline"]),
            )
            for p in places
        ]
        for gate_id, places in (data or {}).items()
    }
