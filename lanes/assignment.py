"""Manifest -> lane. The skeleton's policy picks a lane kind from the declaration, then the
open lane of that kind that can start the truck soonest; smarter policies come later behind
the same port (`LanePolicy`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from lanes.model import Assignment, CustomsStatus, Lane, LaneKind, LaneState, Manifest, Outcome


class LanePolicy(Protocol):
    def assign(
        self,
        manifest: Manifest,
        lanes: Sequence[Lane],
        states: Mapping[str, LaneState],
        *,
        now: datetime,
    ) -> Assignment: ...


def state_of(lane: Lane, states: Mapping[str, LaneState]) -> LaneState:
    """The lane's state; a lane nobody has written about yet is open and free."""
    state = states.get(lane.lane_id)
    return LaneState(lane_id=lane.lane_id, free_at=None) if state is None else state


def expected_start(state: LaneState, now: datetime) -> datetime:
    return now if state.free_at is None else max(now, state.free_at)


def soonest_lane(
    kind: LaneKind, lanes: Sequence[Lane], states: Mapping[str, LaneState], now: datetime
) -> tuple[Lane, LaneState, datetime] | None:
    """The open lane of `kind` with the earliest expected start, ties by lane_id."""
    best: tuple[datetime, str, Lane, LaneState] | None = None
    for lane in lanes:
        state = state_of(lane, states)
        if lane.kind is not kind or not state.is_open:
            continue
        entry = (expected_start(state, now), lane.lane_id, lane, state)
        if best is None or entry[:2] < best[:2]:
            best = entry
    return None if best is None else (best[2], best[3], best[0])


class SimpleLanePolicy:
    """Pending customs -> review; hazmat -> hazmat lane; inspect -> inspection lane;
    containers -> scanner lane (standard if no scanner is open); otherwise standard."""

    __slots__ = ()

    def assign(
        self,
        manifest: Manifest,
        lanes: Sequence[Lane],
        states: Mapping[str, LaneState],
        *,
        now: datetime,
    ) -> Assignment:
        if manifest.customs_status is CustomsStatus.PENDING:
            return Assignment(Outcome.NEEDS_REVIEW, None, "customs status pending: not cleared")
        what = _describe(manifest)
        kinds: tuple[LaneKind, ...]
        if manifest.hazmat_class is not None:
            kinds = (LaneKind.HAZMAT,)
        elif manifest.customs_status is CustomsStatus.INSPECT:
            kinds = (LaneKind.INSPECTION,)
        elif manifest.containers:
            kinds = (LaneKind.SCANNER, LaneKind.STANDARD)
        else:
            kinds = (LaneKind.STANDARD,)
        for kind in kinds:
            found = soonest_lane(kind, lanes, states, now)
            if found is None:
                continue
            lane, state, start = found
            fallback = "" if kind is kinds[0] else f"no {kinds[0]} lane open, "
            return Assignment(
                outcome=Outcome.ASSIGNED,
                lane_id=lane.lane_id,
                reason=(
                    f"{what} -> {fallback}{kind} lane {lane.lane_id} "
                    f"(expected start {start:%H:%M}, {state.queued} ahead)"
                ),
                expected_start_at=start,
                expected_done_at=start + lane.service_time,
            )
        tried = " or ".join(str(kind) for kind in kinds)
        return Assignment(Outcome.REFUSED, None, f"{what}: no {tried} lane open")


def _describe(manifest: Manifest) -> str:
    parts = [str(manifest.customs_status)]
    if manifest.hazmat_class is not None:
        parts.append(f"hazmat class {manifest.hazmat_class}")
    count = len(manifest.containers)
    if count:
        parts.append(f"{count} container{'s' if count != 1 else ''}")
    if manifest.perishable:
        parts.append("perishable")
    return ", ".join(parts)
