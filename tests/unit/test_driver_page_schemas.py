"""A driver's page's data, as each of its builders makes it (waiting, called, recalled,
booked, lost, at the gate, a booking ended), is valid by the schema the OpenAPI document
gives `GET /d/{token}/state` (`services/drivers/schemas.py`), strictly: no member the
schema lacks, none it requires left out. The document gave the page's data no schema."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from lanes.board import Board
from lanes.policy.callforward import AreaQueue, CallKind, PlaceLost, TruckCalled
from services.api.app import create_app
from services.drivers.view import at_gate_state, booked_state, driver_states, lost_state
from services.gates.loader import get_gate
from tests.unit.test_callforward import AREA, T0, gate, truck

DOCUMENT = create_app(context_factory=lambda: None).openapi()
SEVEN = timedelta(hours=7)


def _schema(path: str, method: str, status: str, media: str = "application/json") -> Any:
    content = DOCUMENT["paths"][path][method]["responses"][status]["content"][media]
    return content["schema"] | {"components": DOCUMENT["components"]}


def _call(kind: CallKind, lane_id: str | None) -> TruckCalled:
    return TruckCalled(
        call_id="v1/call-1", visit_id="v1", gate_id="tiny", area_id=AREA.area_id, kind=kind,
        called_at=T0, due_at=T0 + timedelta(minutes=5), deadline=T0 + timedelta(minutes=15),
        lane_id=lane_id, carrier_slot=None if lane_id else "c1/1",
        expected_start_at=T0, reason="called", manifest_id="m1",
    )  # fmt: skip


def _states() -> list[dict[str, Any]]:
    g = gate()
    queue = AreaQueue().entered(truck(1), AREA, T0).entered(truck(2), AREA, T0)
    waiting = queue.waiting
    called = replace(waiting[0], call=_call(CallKind.CALL, "E1"), calls=1)
    recalled = replace(waiting[0], call=_call(CallKind.RECALL, None), calls=2)
    states = [
        state
        for entries in ((called, waiting[1]), (recalled,))
        for state in driver_states(
            AreaQueue(entries), Board.for_gate(g), g, now=T0 + timedelta(minutes=1)
        ).values()
    ]
    slot = (
        datetime(2026, 12, 7, 9, tzinfo=UTC) + SEVEN,
        datetime(2026, 12, 7, 10, tzinfo=UTC) + SEVEN,
    )
    lost = PlaceLost("v1", "tiny", AREA.area_id, T0, "v1/call-2", "not at the gate in time")
    states += [
        booked_state(None),
        booked_state((slot[0].astimezone(), slot[1].astimezone(UTC))),
        {**booked_state(slot), "waiting_area": False},  # with_area: no area for it
        lost_state(lost, SEVEN),
        lost_state(replace(lost, deadline=T0), SEVEN),
        lost_state(replace(lost, withdrawn=True), SEVEN),
        at_gate_state(T0 + timedelta(seconds=59), SEVEN),  # services/drivers/desk.py
        {"status": "at_gate"},  # a page written before 2026-12-06
        *({"status": s} for s in ("cancelled", "no_show", "lost_late", "used")),  # db
    ]
    return states


def test_the_builders_make_every_status() -> None:
    statuses = {state["status"] for state in _states()}
    assert statuses == {
        "waiting", "called", "recalled", "booked", "lost",
        "at_gate", "cancelled", "no_show", "lost_late", "used",
    }  # fmt: skip
    assert get_gate("huu-nghi").waiting_areas  # the real gate has areas the pages serve


@pytest.mark.parametrize("state", _states(), ids=lambda s: str(s["status"]))
def test_each_page_state_is_valid_by_the_document(state: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(_schema("/d/{token}/state", "get", "200")).validate(state)


# RFC 3339's date-time (OpenAPI's `format: date-time`): a date, `T`, a time with seconds, an
# offset; what a generated client parses into its language's instant
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
INSTANTS = {
    "BookedPage": ("slot_start", "slot_end"),
    "WaitingPage": ("expected_at",),
    "CalledPage": ("deadline",),
    "AtGatePage": ("reached_at",),
}


def test_each_instant_of_a_page_is_a_date_time_in_the_document() -> None:
    """Found by a firm's generated client (openapi-python-client): a booked page's
    `slot_start` came as a plain string, where the API's own `slot_start` is a datetime,
    though every builder writes an RFC 3339 date-time at the gate's offset."""
    schemas = DOCUMENT["components"]["schemas"]
    for name, members in INSTANTS.items():
        for member in members:
            assert schemas[name]["properties"][member].get("format") == "date-time", member
    for state in _states():
        page = {"booked": "BookedPage", "waiting": "WaitingPage", "called": "CalledPage"}
        page |= {"recalled": "CalledPage", "at_gate": "AtGatePage"}
        for member in INSTANTS.get(page.get(state["status"], ""), ()):
            if member in state:
                assert RFC3339.match(state[member]), (member, state[member])


@pytest.mark.parametrize(
    "state",
    [
        {"status": "booked", "slot_start": None},
        {"status": "booked", "waiting_area": True},  # left out, never true
        {"status": "waiting", "position": 1},
        {"status": "at_gate", "position": 1},
        {"status": "gone"},
    ],
)
def test_a_state_the_builders_do_not_make_is_invalid(state: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(_schema("/d/{token}/state", "get", "200"))
    assert not validator.is_valid(state)


def test_a_check_in_from_the_page_has_its_answer_documented() -> None:
    ok = _schema("/d/{token}/check-in", "post", "200")
    jsonschema.Draft202012Validator(ok).validate(
        {"checked_in": True, "recorded": False, "at": "2026-12-05T08:00:00Z"}
    )
    refused = _schema("/d/{token}/check-in", "post", "409", "application/problem+json")
    page_words = {"type": "urn:borderflow:problem:booking-not-active", "title": "Conflict"}
    page_words |= {"status": 409, "detail": "booking_id: cancelled", "message": "Huỷ"}
    jsonschema.Draft202012Validator(refused).validate(page_words)
    assert "message" in DOCUMENT["components"]["schemas"]["PageProblem"]["properties"]
