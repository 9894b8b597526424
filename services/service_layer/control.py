"""The control room's use cases: a controller's action (`ApplyAction`: open or close a lane,
take a carrier out of service or put it back, reassign, hold, release, pick a manifest,
confirm a plate), checked by the domain (`lanes.actions`, the policy), made durable with
its audit entry in one transaction on the gate's state (`ControlStores`, the unit of work)
under the gate's lock (the lock the deciding use cases take), announced (`Announcer`: sent
before the commit, so a send that fails rolls the action and its entry back), and a
decision it changed published through the decision outbox after the commit. Timed by the
gate's clock (the newest read's event time), as automatic decisions are, so a replay gives
the same board; the audit entry also keeps the wall clock (`recorded_at`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from lanes.actions import (
    ActionRefused,
    Applied,
    carrier_change_allowed,
    hold,
    lane_change_allowed,
    place_with_manifest,
    reassign,
    turn_away,
)
from lanes.board import Board
from lanes.model import Direction, Gate, LaneDecision, Manifest
from lanes.plates import normalise_plate
from lanes.policy import Policy
from lanes.settle import settle
from lanes.similarity import folded_key
from services.ports import (
    AlertViews,
    AuditEntry,
    ControlStore,
    ControlStores,
    DecisionPublisher,
)

LANE_ACTIONS = ("open_lane", "close_lane")
CARRIER_ACTIONS = ("carrier_back", "carrier_out")  # as LANE_ACTIONS: the one that opens first
# the actions that change the board through a lane event (applied by the lane-event worker),
# and the event each makes
BOARD_EVENTS = {
    "open_lane": "lane_opened",
    "close_lane": "lane_closed",
    "carrier_back": "carrier_back",
    "carrier_out": "carrier_out",
}
# the actions that end an alert's hold of the truck in review, and how: placed on the
# policy's word ("released"), or refused entry ("turned_away", since 2026-12-06 late: the
# alert kept saying "truck held"); the alert then says so, by whom, when, why
RELEASING = {
    "release": "released",
    "pick_manifest": "released",
    "confirm_plate": "released",
    "turn_away": "turned_away",
}
CLOSED_ALERTS = frozenset({"dismissed"})  # as services/alerts/store.py CLOSED
MANIFEST_LOOKBACK = timedelta(days=1)
# a controller's lane event not applied by then (refused by the lane-event worker) no longer
# stands for the lane's state: the board does
LANE_EVENT_PENDING = timedelta(seconds=60)  # a plate confirmed: manifests whose window ended since


class ActionNotFound(LookupError):
    """A visit, decision or manifest the action names does not exist (404)."""


@dataclass(frozen=True, slots=True)
class ApplyAction:
    action: str
    gate_id: str
    actor: str
    reason: str
    action_id: str
    recorded_at: datetime  # the wall clock, for the audit entry
    visit_id: str | None = None
    lane_id: str | None = None
    manifest_id: str | None = None
    plate: str | None = None
    lane_event_id: str | None = None  # the id of the lane event a lane action makes
    carrier_id: str | None = None


@dataclass(frozen=True, slots=True)
class ActionTaken:
    """What an action did: announced before its transaction commits."""

    cmd: ApplyAction
    audit_seq: int
    at: datetime  # the gate's event time it took effect at
    decision: LaneDecision | None  # the revised decision, when one was made
    lane_event: str | None  # `lane_opened`, `lane_closed`, `carrier_out`, `carrier_back`
    # the alerts that held the truck, released by this action (as their `released` events)
    released: tuple[AlertViews, ...] = ()


class Announcer(Protocol):
    async def __call__(self, taken: ActionTaken) -> None:
        """Announce the action (and its lane event); raising rolls the action back."""


class ApplyActionHandler:
    def __init__(
        self,
        *,
        uow: ControlStores,
        decisions: DecisionPublisher,
        gates: Mapping[str, Gate],
        policy: Policy,
    ) -> None:
        self.uow, self.decisions = uow, decisions
        self.gates, self.policy = gates, policy

    async def __call__(self, cmd: ApplyAction, *, announce: Announcer) -> ActionTaken:
        """Raises ActionRefused (the rules say no) or ActionNotFound."""
        gate = self.gates[cmd.gate_id]
        async with self.uow() as store:
            await store.lock_gates([gate.gate_id])
            await self.decisions.mark_sent(store)
            at = await store.gate_clock(gate.gate_id) or cmd.recorded_at
            board = settle(await store.board(gate), gate, now=at)
            decision: LaneDecision | None = None
            released: list[AlertViews] = []
            details: dict[str, Any] = {"action_id": cmd.action_id, "event_time": at.isoformat()}
            if cmd.action in BOARD_EVENTS:
                await _board_change_allowed(store, gate, cmd, board)
                details["lane_event_id"] = cmd.lane_event_id
            else:
                before = await _decision(store, gate, cmd.visit_id)
                applied = await self._apply_to_decision(
                    store, gate, cmd, before, board=board, at=at
                )
                decision = applied.decision
                await store.save_board(gate.gate_id, applied.board, now=at)
                await store.revise_decisions([decision])
                details |= {"before": _before(before), "after": _after(decision)}
                if cmd.action in RELEASING:
                    released = await store.release_holds(
                        decision.visit_id,
                        by=cmd.actor,
                        reason=cmd.reason,
                        at=at,
                        ended=RELEASING[cmd.action],
                    )
                    if released:
                        details["released_alerts"] = [v.shown["alert_id"] for v in released]
            named = {
                "lane_id": cmd.lane_id,
                "carrier_id": cmd.carrier_id,
                "manifest_id": cmd.manifest_id,
                "plate": cmd.plate,
            }
            seq = await store.audit(
                AuditEntry(
                    actor=cmd.actor,
                    action=cmd.action,
                    gate_id=gate.gate_id,
                    target=str(_target(cmd)),
                    reason=cmd.reason,
                    details=details | {k: v for k, v in named.items() if v},
                    at=cmd.recorded_at,
                )
            )
            lane_event = BOARD_EVENTS.get(cmd.action)
            taken = ActionTaken(cmd, seq, at, decision, lane_event, tuple(released))
            await announce(taken)  # before the commit: a send that fails rolls it back
        self.decisions.committed()
        if decision is not None:
            await self.decisions.publish_now([decision])
        return taken

    async def _apply_to_decision(
        self,
        store: ControlStore,
        gate: Gate,
        cmd: ApplyAction,
        before: LaneDecision,
        *,
        board: Board,
        at: datetime,
    ) -> Applied:
        what = {
            "pick_manifest": f"manifest {cmd.manifest_id} picked by {cmd.actor}",
            "confirm_plate": f"plate {cmd.plate} confirmed by {cmd.actor}",
            "reassign": f"reassigned to {cmd.lane_id} by {cmd.actor}",
            "hold": f"held by {cmd.actor}",
            "release": f"released by {cmd.actor}",
            "turn_away": f"turned away by {cmd.actor}",
        }[cmd.action] + f" ({cmd.reason})"
        if cmd.action == "reassign":
            assert cmd.lane_id is not None
            return reassign(before, cmd.lane_id, gate=gate, board=board, what=what, now=at)
        if cmd.action == "hold":
            return hold(before, board=board, what=what, now=at)
        if cmd.action == "turn_away":
            return turn_away(before, board=board, what=what, now=at)
        visit = await store.visit(before.visit_id)
        assert visit is not None
        direction = visit.direction
        if cmd.action == "pick_manifest":
            manifest = await _manifest(store, cmd.manifest_id)
        elif cmd.action == "confirm_plate":
            manifest = await _manifest_by_plate(store, cmd.plate or "", direction, at)
        else:  # release
            if before.manifest_id is None:
                raise ActionRefused(
                    "visit_id: no manifest attributed to this visit; pick one or confirm the plate"
                )
            manifest = await _manifest(store, before.manifest_id)
        if manifest.direction is not direction:
            raise ActionRefused(
                f"manifest_id: {manifest.manifest_id} is for {manifest.direction}; "
                f"seen at an {direction} camera"
            )
        return place_with_manifest(
            before,
            manifest,
            arrived_at=visit.first_seen_at,
            gate=gate,
            board=board,
            policy=self.policy,
            what=what,
            now=at,
            plate=normalise_plate(cmd.plate or "") if cmd.action == "confirm_plate" else None,
        )


def _target(cmd: ApplyAction) -> str | None:
    """What the action is about: its lane, its carrier, else its visit."""
    if cmd.action in LANE_ACTIONS:
        return cmd.lane_id
    return cmd.carrier_id if cmd.action in CARRIER_ACTIONS else cmd.visit_id


async def _board_change_allowed(
    store: ControlStore, gate: Gate, cmd: ApplyAction, board: Board
) -> None:
    """A lane opened or closed, or a carrier put back or taken out, checked by the rules,
    counting a change of it a controller made whose lane event is not applied yet."""
    since = cmd.recorded_at - LANE_EVENT_PENDING
    if cmd.action in LANE_ACTIONS:
        assert cmd.lane_id is not None
        pending = await store.pending_lane_change(gate.gate_id, cmd.lane_id, since=since)
        lane_change_allowed(
            cmd.lane_id, gate=gate, board=board, open_it=cmd.action == "open_lane", pending=pending
        )
        return
    assert cmd.carrier_id is not None
    pending = await store.pending_lane_change(
        gate.gate_id, cmd.carrier_id, since=since, actions=CARRIER_ACTIONS
    )
    carrier_change_allowed(
        cmd.carrier_id, board=board, back=cmd.action == "carrier_back", pending=pending
    )


def _before(d: LaneDecision) -> dict[str, Any]:
    return {
        "decision_id": d.decision_id,
        "outcome": d.outcome.value,
        "lane_id": d.lane_id,
        "manifest_id": d.manifest_id,
    }


def _after(d: LaneDecision) -> dict[str, Any]:
    return _before(d) | {"carrier_slot": d.carrier_slot, "reason": d.reason}


async def _decision(store: ControlStore, gate: Gate, visit_id: str | None) -> LaneDecision:
    found = (await store.decisions_for_visits([visit_id])).get(visit_id) if visit_id else None
    if found is None or found.gate_id != gate.gate_id:
        raise ActionNotFound(f"visit_id: no decided visit {visit_id!r} at gate {gate.gate_id!r}")
    return found


async def _manifest(store: ControlStore, manifest_id: str | None) -> Manifest:
    found = await store.manifest(manifest_id or "")
    if found is None:
        raise ActionNotFound(f"manifest_id: no manifest {manifest_id!r}")
    return found


async def _manifest_by_plate(
    store: ControlStore, plate: str, direction: Direction, at: datetime
) -> Manifest:
    wanted = normalise_plate(plate)
    if not wanted:
        raise ActionRefused(f"plate: {plate!r} has no letter or digit")
    found = [
        m
        for m in await store.manifests_for_keys(
            {folded_key(wanted)}, ended_after=at - MANIFEST_LOOKBACK
        )
        if normalise_plate(m.tractor_plate) == wanted and m.direction is direction
    ]
    if not found:
        raise ActionRefused(f"plate: no open {direction} manifest for tractor {wanted}")
    if len(found) > 1:
        ids = ", ".join(m.manifest_id for m in found)
        raise ActionRefused(f"plate: {wanted} is on several manifests ({ids}); pick one")
    return found[0]


# --- the alerts' workflow --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeAlertStatus:
    """A controller acknowledges, escalates or dismisses an alert (`status`: what `action`
    sets)."""

    alert_id: str
    action: str
    status: str
    actor: str
    reason: str
    recorded_at: datetime  # the wall clock


@dataclass(frozen=True, slots=True)
class AlertStatusChanged:
    alert_id: str
    gate_id: str | None
    audit_seq: int
    views: AlertViews


class AlertChangeRefused(Exception):
    """`kind`: `unknown-alert` (404), `alert-closed` or `alert-unchanged` (409)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class AlertAnnouncer(Protocol):
    async def __call__(self, changed: AlertStatusChanged) -> None:
        """Announce the change; raising rolls it back."""


class ChangeAlertStatusHandler:
    """Check the change, store it with its audit entry (one transaction, the alert locked),
    announce it before the commit."""

    def __init__(self, *, uow: ControlStores) -> None:
        self.uow = uow

    async def __call__(
        self, cmd: ChangeAlertStatus, *, announce: AlertAnnouncer
    ) -> AlertStatusChanged:
        async with self.uow() as store:
            alert = await store.alert_state(cmd.alert_id)
            if alert is None:
                raise AlertChangeRefused("unknown-alert", f"no alert {cmd.alert_id!r}")
            if alert.status in CLOSED_ALERTS:
                raise AlertChangeRefused(
                    "alert-closed", f"{cmd.alert_id} is closed ({alert.status})"
                )
            if alert.status == cmd.status:
                raise AlertChangeRefused(
                    "alert-unchanged", f"{cmd.alert_id} is {cmd.status} already"
                )
            await store.set_alert_status(
                cmd.alert_id, status=cmd.status, by=cmd.actor, reason=cmd.reason, at=cmd.recorded_at
            )
            seq = await store.audit(
                AuditEntry(
                    actor=cmd.actor,
                    action=f"alert_{cmd.action}",
                    gate_id=alert.gate_id or "",
                    target=cmd.alert_id,
                    reason=cmd.reason,
                    details={
                        "alert_id": cmd.alert_id,
                        "rule": alert.rule,
                        "subject": alert.subject,
                        "severity": alert.severity,
                        "before": alert.status,
                        "after": cmd.status,
                    },
                    at=cmd.recorded_at,
                )
            )
            views = await store.alert_views(cmd.alert_id, change=cmd.status)
            changed = AlertStatusChanged(cmd.alert_id, alert.gate_id, seq, views)
            await announce(changed)  # before the commit: a send that fails rolls it back
        return changed


@dataclass(frozen=True, slots=True)
class ControlRoomHandlers:
    """The control room's use cases, as the composition root builds them."""

    apply: ApplyActionHandler
    change_alert: ChangeAlertStatusHandler
