"""A lost place names its truck's manifest, as the truck's calls do, so that the call
notifier finds the firm's webhook for it (found 2026-12-06 as a stranger firm's dispatcher
on `borderflow up`: the firm's webhook got its truck's call and recall, never the lost
place; `truck.place_lost` went out with `manifest_id: null`, the router found no firm for
it, and the call was marked delivered with only the driver's SMS sent)."""

from __future__ import annotations

from lanes.board import Board
from lanes.policy.callforward import PlaceLost
from streams.calls import call_to_wire
from tests.unit.test_callforward import MIN, POLICY, T0, calls, gate, truck, waiting


def test_a_place_lost_for_a_missed_recall_names_the_manifest() -> None:
    g = gate(lanes=1)
    queue = waiting(g, truck(1))
    events, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    assert calls(events)[0].manifest_id == "m1"
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 15 * MIN)  # recalled
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 30 * MIN)
    [lost] = [e for e in events if isinstance(e, PlaceLost)]
    assert call_to_wire(lost).manifest_id == "m1"


def test_a_place_withdrawn_for_a_cancelled_booking_names_the_manifest() -> None:
    g = gate(lanes=1)
    queue = waiting(g, truck(1))
    _, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    lost, _, _ = POLICY.withdraw("v1", queue, board, g, now=T0 + MIN, reason="cancelled")
    assert lost is not None and call_to_wire(lost).manifest_id == "m1"
