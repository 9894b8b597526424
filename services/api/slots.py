"""`GET /v1/slots`: a gate's bookable slots in one direction, with what is left of each."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from lanes.bookings import capacity, check_window, slot_of, slots_between
from lanes.errors import UnknownGateError
from lanes.model import Direction, Gate
from services.api.auth import FirmDep, SessionsDep
from services.api.booking_schemas import SlotList, SlotView
from services.api.problems import PROBLEM_RESPONSE, ProblemError
from services.db.bookings import slot_usage
from services.gates.loader import get_gate
from streams import clock
from streams.manifests import ID_PATTERN
from streams.timestamps import IN_RANGE, ISO_ONLY

router = APIRouter(prefix="/v1/slots", tags=["bookings"])

MAX_RANGE = timedelta(days=7)
PROBLEM = PROBLEM_RESPONSE
# every firm route: a bad or missing key, a refused query or body, the key's rate limit
ERRORS: dict[int | str, dict[str, Any]] = {401: PROBLEM, 422: PROBLEM, 429: PROBLEM}
FOUND_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 404: PROBLEM}


def booking_gate(request: Request, gate_id: str | None, *, status: int = 404) -> Gate:
    """The gate a request names (this system's by default) if it takes bookings."""
    ctx = request.app.state.context
    gate_id = gate_id or ctx.default_gate
    try:
        gate = get_gate(gate_id, ctx.gates)
    except UnknownGateError as exc:
        raise ProblemError(status, "unknown-gate", str(exc), field="gate") from None
    if gate.booking is None:
        raise ProblemError(422, "no-bookings", f"gate {gate_id!r} takes no bookings", field="gate")
    return gate


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ProblemError(422, "invalid-request", "needs a UTC offset, e.g. +07:00", field=name)


@router.get(
    "",
    response_model=SlotList,
    responses=FOUND_ERRORS,
    summary="The slots overlapping [from, to) (at most 7 days), with capacity and what is left",
    description="Each slot in the bookable hours that overlaps [from, to): the slot in "
    "progress at `from` is listed too. `open` says whether it can be booked now: a slot "
    "that has begun, or whose cut-off (`closes_at`) has passed, is listed with `open` false.",
)
async def list_slots(
    request: Request,
    *,
    firm: FirmDep,
    sessions: SessionsDep,
    direction: Annotated[Direction, Query(description="export or import", examples=["export"])],
    gate: Annotated[
        str | None, Query(max_length=64, pattern=ID_PATTERN, description="default: this gate")
    ] = None,
    start: Annotated[
        datetime | None,
        ISO_ONLY,
        IN_RANGE,
        Query(
            alias="from",
            description="ISO 8601 with offset, between 2000-01-01 and 2199-12-31 (UTC); "
            "default: now",
            examples=["2026-12-07T00:00:00+07:00"],
        ),
    ] = None,
    end: Annotated[
        datetime | None,
        ISO_ONLY,
        IN_RANGE,
        Query(
            alias="to",
            description="ISO 8601 with offset, after `from` and at most 7 days after it, "
            "between 2000-01-01 and 2199-12-31 (UTC); default: `from` + 1 day",
            examples=["2026-12-08T00:00:00+07:00"],
        ),
    ] = None,
) -> SlotList:
    found = booking_gate(request, gate)
    assert found.booking is not None
    _aware("from", start)
    _aware("to", end)
    start = start or clock.wall_clock()  # what to list: from now, by default
    end = end or start + timedelta(days=1)
    if end <= start:
        raise ProblemError(422, "invalid-range", "must be after `from`", field="to")
    if end - start > MAX_RANGE:
        raise ProblemError(
            422, "invalid-range", "at most 7 days after `from`; ask page by page", field="to"
        )
    rules = found.booking
    now = clock.wall_clock()  # when bookings close is an operational question: wall clock
    # from the slot holding `from`: a client listing from 09:30 sees the 09:00 slot, open or
    # not by the booking rule (one that has begun is not), rather than no word of it
    first = slot_of(start, rules, found.utc_offset)[0]
    slots = slots_between(first, end, rules=rules, utc_offset=found.utc_offset)
    async with sessions() as session:
        usage = await slot_usage(
            session=session,
            gate_id=found.gate_id,
            direction=direction,
            start=slots[0][0] if slots else start,
            end=end,
        )
    views = []
    for slot_start, slot_end in slots:
        cap = capacity(slot_start, direction, rules, found.utc_offset)
        booked, perishable = usage.get(slot_start, (0, 0))
        left = max(cap.total - booked, 0)
        views.append(
            SlotView(
                slot_start=slot_start,
                slot_end=slot_end,
                capacity=cap.total,
                reserved=cap.reserved,
                booked=booked,
                booked_perishable=perishable,
                left=left,
                left_general=max(min(left, cap.general - (booked - perishable)), 0),
                closes_at=slot_start - rules.cutoff,
                # the booking rule's own check: one copy of when a slot can be booked
                open=not check_window(
                    slot_start, rules=rules, utc_offset=found.utc_offset, now=now
                ),
            )
        )
    return SlotList(
        gate_id=found.gate_id,
        direction=direction,
        slot_minutes=int(rules.slot_length.total_seconds() // 60),
        slots=views,
    )
