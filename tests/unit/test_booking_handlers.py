"""The booking use cases (services/service_layer/bookings.py) on the in-memory adapters: no
database, no broker. The same handlers run on the database behind /v1/bookings
(tests/integration/test_bookings_api.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lanes.booking import Booking, BookingRefused, ManifestTerms
from lanes.bookings import BookingRules, BookingState
from lanes.model import Gate
from lanes.values import Direction
from services.adapters.memory_bookings import (
    BookingData,
    MemoryBookingUnitOfWork,
    RecordingPublisher,
)
from services.gates.loader import default_gates
from services.service_layer.bookings import (
    Booked,
    BookSlot,
    CancelSlot,
    CheckIn,
    IdempotencyKeyReused,
    Replayed,
    RescheduleSlot,
    book_slot,
    cancel_slot,
    check_in_slot,
    reschedule_slot,
)

# one export place a slot, none of it kept for perishable cargo
GATE = replace(
    default_gates()["huu-nghi"], booking=BookingRules(export_per_slot=1, perishable_share=0.0)
)
GATES = {GATE.gate_id: GATE}
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 at the gate (UTC+7)
SLOT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00-11:00 local, the next day
HOUR = timedelta(hours=1)


def _present(booking: Booking) -> dict[str, Any]:
    return {"booking_id": booking.booking_id, "slot_start": booking.slot_start.isoformat()}


def _system() -> tuple[MemoryBookingUnitOfWork, RecordingPublisher]:
    data = BookingData()
    for firm, manifest in (("firm-a", "A-1"), ("firm-a", "A-2"), ("firm-b", "B-1")):
        data.manifests[(firm, manifest)] = ManifestTerms(Direction.EXPORT, False)
    return MemoryBookingUnitOfWork(data), RecordingPublisher()


async def _book(
    uow: MemoryBookingUnitOfWork,
    publisher: RecordingPublisher,
    manifest: str = "A-1",
    *,
    firm: str = "firm-a",
    slot: datetime = SLOT,
    key: str | None = None,
    digest: str = "h1",
) -> Booked | Replayed:
    cmd = BookSlot(firm, manifest, GATE.gate_id, slot, idempotency_key=key, request_hash=digest)
    return await book_slot(
        cmd, uow=uow, publisher=publisher, gates=GATES, now=NOW, present=_present
    )


async def _booked(
    uow: MemoryBookingUnitOfWork, publisher: RecordingPublisher, **kw: Any
) -> Booking:
    result = await _book(uow, publisher, **kw)
    assert isinstance(result, Booked)
    return result.booking


def _new_booking(gate: Gate) -> Booking:
    return Booking.new(
        booking_id="bk_1",
        firm_id="firm-a",
        manifest_id="A-1",
        gate=gate,
        direction=Direction.EXPORT,
        perishable=False,
        slot_start=SLOT,
        now=NOW,
    )


def _events(uow: MemoryBookingUnitOfWork) -> list[str]:
    return [type_ for type_, _, _ in uow.committed.events]


async def test_booking_a_slot_stores_it_takes_a_place_and_wakes_the_publisher() -> None:
    uow, publisher = _system()

    booking = await _booked(uow, publisher)

    assert booking.status is BookingState.ACTIVE
    assert (booking.slot_start, booking.slot_end) == (SLOT, SLOT + HOUR)
    assert uow.committed.bookings == {booking.booking_id: booking}
    assert uow.committed.places[(GATE.gate_id, Direction.EXPORT, SLOT)] == [1, 0]
    assert uow.committed.pages == {booking.booking_id: "booked"}
    assert _events(uow) == ["booking.created"]
    assert (uow.commits, publisher.wakes) == (1, 1)


@pytest.mark.parametrize(
    ("manifest", "firm", "slot", "kind"),
    [
        ("A-9", "firm-a", SLOT, "manifest_not_found"),
        ("B-1", "firm-a", SLOT, "manifest_not_found"),  # another firm's reads as missing
        ("A-1", "firm-a", NOW - HOUR, "window"),  # in the past
        ("A-1", "firm-a", SLOT + timedelta(minutes=20), "window"),  # not a slot boundary
    ],
)
async def test_a_refused_booking_keeps_nothing(
    manifest: str, firm: str, slot: datetime, kind: str
) -> None:
    uow, publisher = _system()

    with pytest.raises(BookingRefused) as refused:
        await _book(uow, publisher, manifest, firm=firm, slot=slot, key="k-1")

    assert refused.value.kind == kind
    assert uow.committed == _system()[0].committed  # not even the idempotency key
    assert (uow.commits, publisher.wakes) == (0, 0)


async def test_one_active_booking_a_manifest_and_a_full_slot_is_refused() -> None:
    uow, publisher = _system()
    first = await _booked(uow, publisher)

    with pytest.raises(BookingRefused, match=first.booking_id) as again:
        await _book(uow, publisher, "A-1", slot=SLOT + HOUR)
    with pytest.raises(BookingRefused, match="slot full") as full:
        await _book(uow, publisher, "A-2")

    assert (again.value.kind, full.value.kind) == ("already_booked", "slot_full")
    assert "slot at 2026-11-24 10:00 local (UTC+07:00)" in str(full.value)  # the gate's clock
    assert list(uow.committed.bookings) == [first.booking_id]


async def test_a_retry_with_the_same_key_gets_the_first_answer() -> None:
    uow, publisher = _system()
    first = await _book(uow, publisher, key="k-1")
    assert isinstance(first, Booked)

    retry = await _book(uow, publisher, key="k-1")
    assert isinstance(retry, Replayed)
    assert retry.earlier.response == first.answer
    assert (retry.earlier.booking_id, retry.earlier.status_code) == (first.booking.booking_id, 201)
    with pytest.raises(IdempotencyKeyReused):
        await _book(uow, publisher, "A-2", key="k-1", digest="another body")
    assert len(uow.committed.bookings) == 1
    assert publisher.wakes == 1


async def test_rescheduling_moves_the_place_and_keeps_the_old_slot_when_refused() -> None:
    uow, publisher = _system()
    booking = await _booked(uow, publisher)
    other = await _booked(uow, publisher, manifest="A-2", slot=SLOT + HOUR)

    with pytest.raises(BookingRefused, match="slot full"):
        await reschedule_slot(
            RescheduleSlot("firm-a", booking.booking_id, other.slot_start),
            uow=uow,
            publisher=publisher,
            gates=GATES,
            now=NOW,
        )
    assert uow.committed.bookings[booking.booking_id] == booking

    moved = await reschedule_slot(
        RescheduleSlot("firm-a", booking.booking_id, SLOT - HOUR),
        uow=uow,
        publisher=publisher,
        gates=GATES,
        now=NOW,
    )

    assert (moved.slot_start, moved.version) == (SLOT - HOUR, 2)
    assert uow.committed.places[(GATE.gate_id, Direction.EXPORT, SLOT)] == [0, 0]
    assert uow.committed.places[(GATE.gate_id, Direction.EXPORT, SLOT - HOUR)] == [1, 0]
    assert uow.committed.events[-1] == (
        "booking.rescheduled",
        booking.booking_id,
        {"previous_slot_start": SLOT.isoformat()},
    )


async def test_cancelling_twice_changes_once_and_a_cancelled_booking_does_not_move() -> None:
    uow, publisher = _system()
    booking = await _booked(uow, publisher)
    cancel = CancelSlot("firm-a", booking.booking_id)

    first = await cancel_slot(cancel, uow=uow, publisher=publisher, now=NOW)
    second = await cancel_slot(cancel, uow=uow, publisher=publisher, now=NOW + HOUR)
    with pytest.raises(BookingRefused, match="only an active booking") as refused:
        await reschedule_slot(
            RescheduleSlot("firm-a", booking.booking_id, SLOT + HOUR),
            uow=uow,
            publisher=publisher,
            gates=GATES,
            now=NOW,
        )

    assert first == second
    assert (first.status, first.version) == (BookingState.CANCELLED, 2)
    assert refused.value.kind == "not_active"
    assert _events(uow) == ["booking.created", "booking.cancelled"]
    assert uow.committed.places[(GATE.gate_id, Direction.EXPORT, SLOT)] == [0, 0]


async def test_another_firms_booking_reads_as_missing() -> None:
    uow, publisher = _system()
    booking = await _booked(uow, publisher)

    with pytest.raises(BookingRefused) as refused:
        await cancel_slot(
            CancelSlot("firm-b", booking.booking_id), uow=uow, publisher=publisher, now=NOW
        )

    assert refused.value.kind == "booking_not_found"
    assert uow.committed.bookings[booking.booking_id].status is BookingState.ACTIVE


async def test_a_check_in_is_an_event_at_its_time_and_changes_nothing_of_the_booking() -> None:
    """Issue 23: the truck is in the waiting area; only an active booking of a gate with a
    waiting area for its direction checks in; another firm's reads as missing."""
    uow, publisher = _system()
    booking = await _booked(uow, publisher)
    at = SLOT - 10 * timedelta(minutes=1)
    cmd = CheckIn("firm-a", booking.booking_id)

    checked = await check_in_slot(cmd, uow=uow, publisher=publisher, gates=GATES, now=at)

    assert checked.booking == booking == uow.committed.bookings[booking.booking_id]
    assert checked.recorded and checked.at == at
    assert uow.committed.events[-1] == (
        "booking.checked_in",
        booking.booking_id,
        {"occurred_at": at},
    )
    # a double tap (within CHECK_IN_REPEAT) records nothing more; a later check-in does
    # (and says so, naming the check-in that stands: it answered a bare yes before)
    for again in (at + timedelta(seconds=2), at + 4 * timedelta(minutes=1)):
        repeat = await check_in_slot(cmd, uow=uow, publisher=publisher, gates=GATES, now=again)
        assert not repeat.recorded and repeat.at == at
    assert _events(uow) == ["booking.created", "booking.checked_in"]
    later = at + 6 * timedelta(minutes=1)
    await check_in_slot(cmd, uow=uow, publisher=publisher, gates=GATES, now=later)
    assert uow.committed.events[-1][2] == {"occurred_at": later}
    with pytest.raises(BookingRefused) as missing:
        await check_in_slot(
            CheckIn("firm-b", booking.booking_id), uow=uow, publisher=publisher, gates=GATES, now=at
        )
    assert missing.value.kind == "booking_not_found"
    no_area = {GATE.gate_id: replace(GATE, waiting_areas=())}
    with pytest.raises(BookingRefused, match="no waiting area") as refused:
        await check_in_slot(cmd, uow=uow, publisher=publisher, gates=no_area, now=at)
    assert refused.value.kind == "no_waiting_area"
    await cancel_slot(
        CancelSlot("firm-a", booking.booking_id), uow=uow, publisher=publisher, now=at
    )
    with pytest.raises(BookingRefused, match="only an active booking can be checked in"):
        await check_in_slot(cmd, uow=uow, publisher=publisher, gates=GATES, now=at)
    assert _events(uow) == [
        "booking.created",
        "booking.checked_in",
        "booking.checked_in",
        "booking.cancelled",
    ]


def test_the_gate_takes_no_bookings_without_rules() -> None:
    closed: Gate = replace(GATE, booking=None)
    with pytest.raises(BookingRefused, match="takes no bookings"):
        _new_booking(closed)


def test_an_active_booking_ends_used_lost_or_not_shown_and_only_once() -> None:
    booking = _new_booking(GATE)
    grace = timedelta(minutes=60)

    assert not booking.lost_at(SLOT + HOUR + grace - timedelta(seconds=1), grace)
    assert booking.lost_at(SLOT + HOUR + grace, grace)
    ends = [booking.used(SLOT), booking.lost_late(SLOT + 3 * HOUR), booking.no_show(NOW)]
    assert [(b.status, b.version) for b in ends] == [
        (BookingState.USED, 2),
        (BookingState.LOST_LATE, 2),
        (BookingState.NO_SHOW, 2),
    ]
    with pytest.raises(BookingRefused, match="is used: only an active booking"):
        ends[0].no_show(NOW)


async def test_a_cancelled_booking_s_page_stops_saying_booked() -> None:
    """Before, the driver's page of a cancelled booking went on saying "Booked. Drive to the
    waiting area" (with its check-in button): only a queued truck's page was changed."""
    uow, publisher = _system()
    booking = await _booked(uow, publisher)

    await cancel_slot(
        CancelSlot("firm-a", booking.booking_id), uow=uow, publisher=publisher, now=NOW
    )

    assert uow.committed.pages == {booking.booking_id: "cancelled"}


async def test_a_booked_page_holds_the_slot_in_the_gates_time_and_follows_a_reschedule() -> None:
    """Before, the driver's page had no slot: it could not say when to come. The page gets
    the slot in the gate's local time (UTC+7 at Huu Nghi), and a reschedule moves it."""
    uow, publisher = _system()
    booking = await _booked(uow, publisher)
    gate_time = timezone(timedelta(hours=7))
    assert uow.committed.page_slots[booking.booking_id] == (
        datetime(2026, 11, 24, 10, 0, tzinfo=gate_time),
        datetime(2026, 11, 24, 11, 0, tzinfo=gate_time),
    )
    (start, end) = uow.committed.page_slots[booking.booking_id]
    assert start.utcoffset() == end.utcoffset() == timedelta(hours=7)

    await reschedule_slot(
        RescheduleSlot("firm-a", booking.booking_id, SLOT + 4 * HOUR),
        uow=uow,
        publisher=publisher,
        gates=GATES,
        now=NOW,
    )

    assert uow.committed.page_slots[booking.booking_id][0].isoformat() == (
        "2026-11-24T14:00:00+07:00"
    )
