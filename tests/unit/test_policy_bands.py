"""The cached open hours (`lanes.policy.bands`) answer as `lanes.policy.hours`, object for
object, whatever zone the times are given in (the band compares in one zone of its own);
the lower bound on a carrier trip (`trips.leaves_after`) never refuses a trip the full
projection would give in time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanes.board import Board, Container, Queued, Truck
from lanes.model import (
    BookingStatus,
    CargoClass,
    CarrierFleet,
    CustomsChannel,
    DailyHours,
    Direction,
)
from lanes.policy import hours
from lanes.policy.bands import Band, fit_avoiding
from lanes.policy.reference import project_trips
from lanes.policy.trips import leaves_after
from lanes.policy.view import GateView
from services.gates.loader import default_gates, get_gate

OFFSET = timedelta(hours=7)
ZONES = [timezone(OFFSET), UTC, timezone(timedelta(hours=-5))]
HOURS = [
    DailyHours(((time(6), time(22)),)),
    DailyHours(((time(22), time(6)),)),
    DailyHours(((time(7), time(11)), (time(13), time(13, 20)))),
]
CHARGING = DailyHours(((time(0), time(1)), (time(12), time(13))))


def _times() -> list[datetime]:
    """Every 7 minutes over two local days, each instant in turn in each zone (so a band
    is asked in zones other than the one it keeps)."""
    first = datetime(2025, 6, 1, 17, 0, tzinfo=UTC)
    return [
        (first + n * timedelta(minutes=7)).astimezone(ZONES[n % len(ZONES)])
        for n in range(2 * 24 * 60 // 7)
    ]


@pytest.mark.parametrize("daily", HOURS)
def test_band_answers_as_the_hours_in_any_zone(daily: DailyHours) -> None:
    band, busy = Band(daily, OFFSET), Band(CHARGING, OFFSET)
    for at in _times():
        assert repr(band.stretch(at)) == repr(hours.stretch(daily, at, OFFSET))
        for length in (timedelta(minutes=3), timedelta(minutes=25), timedelta(hours=5)):
            assert repr(band.fit(at, length)) == repr(hours.fit(daily, at, length, OFFSET))
            assert repr(fit_avoiding(band, busy, at, length)) == repr(
                hours.fit_avoiding(daily, CHARGING, at, length, OFFSET)
            )
        start, window, _, _, later = band.start(at)
        expected = hours.stretch(daily, at, OFFSET)
        assert window == expected
        assert repr(start) == repr(at if expected is None else max(at, expected[0]))  # plan._start
        assert later == (expected is not None and expected[0] > at)


# -- the lower bound on a carrier trip ---------------------------------------------------


@st.composite
def _yards(draw: st.DrawFn) -> tuple[Board, CarrierFleet, tuple[Queued, ...], Queued, datetime]:
    """A yard of the shipped gate with containers waiting, trucks promised a slot (one of
    them `mine`) and carriers away or at the yard, at a random time of day."""
    gate = get_gate("huu-nghi", default_gates())
    fleet = gate.fleet
    assert fleet is not None
    now = datetime(2025, 6, 2, tzinfo=timezone(OFFSET)) + timedelta(
        minutes=draw(st.integers(0, 24 * 60 - 1))
    )
    minutes = st.integers(-30, 90).map(lambda m: now + timedelta(minutes=m))
    directions = st.sampled_from(list(Direction))
    waiting = tuple(
        Container(f"w{n}/1", draw(directions), draw(minutes))
        for n in range(draw(st.integers(0, 15)))
    )
    handovers = tuple(
        Queued(
            Truck(
                f"v{n}",
                draw(directions),
                now,
                CustomsChannel.GREEN,
                frozenset({CargoClass.CONTAINER}),
                draw(st.integers(1, 2)),
                BookingStatus.WALK_IN,
            ),
            timedelta(minutes=2),
            now,
            draw(minutes.filter(lambda at: at > now)),
        )
        for n in range(draw(st.integers(1, 15)))
    )
    board = Board.for_gate(gate)
    assert board.yard is not None
    carriers = tuple(
        replace(c, back_at=draw(st.none() | minutes), out_of_service=draw(st.booleans()))
        for c in board.carriers
    )
    board = replace(board, carriers=carriers, yard=replace(board.yard, waiting=waiting))
    return board, fleet, handovers, draw(st.sampled_from(handovers)), now


@given(_yards(), st.integers(0, 120))
@settings(max_examples=300, deadline=None)
def test_the_trip_bound_never_refuses_a_trip_in_time(
    case: tuple[Board, CarrierFleet, tuple[Queued, ...], Queued, datetime], wait: int
) -> None:
    """When `leaves_after` says the last container of a truck leaves after the limit, the
    full projection (the reference's) gives it no trip, or one leaving after the limit."""
    board, fleet, handovers, mine, now = case
    limit = mine.expected_done_at + timedelta(minutes=wait)
    view = GateView(get_gate("huu-nghi", default_gates()))
    if leaves_after(board, fleet, handovers, view.charging, mine=mine, limit=limit, now=now):
        trips = project_trips(board, fleet, handovers, now=now, utc_offset=OFFSET)
        trip = trips.get(f"{mine.truck.visit_id}/{mine.truck.containers}")
        assert trip is None or trip.departs_at > limit
