"""The board as plain JSON (a database snapshot the live worker persists) and back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from lanes.board import (
    Board,
    BoardError,
    CarrierBoard,
    Container,
    InService,
    LaneBoard,
    Queued,
    Truck,
    YardBoard,
)
from lanes.model import BookingStatus, CargoClass, CustomsChannel, Direction

_T = TypeVar("_T")


def board_to_json(board: Board) -> dict[str, Any]:
    """Plain JSON types only (str, int, bool, None, lists, dicts): a database snapshot."""
    yard = board.yard
    return {
        "gate_id": board.gate_id,
        "lanes": [
            {
                "lane_id": lane.lane_id,
                "is_open": lane.is_open,
                "changed_at": _time(lane.changed_at),
                "serving": _service_json(lane.serving),
                "queue": [_queued_json(e) for e in lane.queue],
            }
            for lane in board.lanes
        ],
        "carriers": [
            {
                "carrier_id": c.carrier_id,
                "back_at": _time(c.back_at),
                "out_of_service": c.out_of_service,
                "changed_at": _time(c.changed_at),
                "load": list(c.load),
            }
            for c in board.carriers
        ],
        "yard": None
        if yard is None
        else {
            "yard_id": yard.yard_id,
            "bay_count": yard.bay_count,
            "capacity": yard.capacity,
            "round_trip_s": yard.round_trip.total_seconds(),
            "per_trip": yard.per_trip,
            "bays": [_service_json(b) for b in yard.bays],
            "queue": [_queued_json(e) for e in yard.queue],
            "waiting": [
                [c.ref, c.direction.value, _time(c.ready_at), c.perishable] for c in yard.waiting
            ],
        },
    }


def board_from_json(data: dict[str, Any]) -> Board:
    """The board `to_json` wrote; raises BoardError on a malformed snapshot."""
    try:
        yard = data["yard"]
        return Board(
            gate_id=data["gate_id"],
            lanes=tuple(
                LaneBoard(
                    lane_id=lane["lane_id"],
                    is_open=bool(lane["is_open"]),
                    changed_at=_parse(lane["changed_at"]),
                    serving=_service_parse(lane["serving"]),
                    queue=tuple(_queued_parse(e) for e in lane["queue"]),
                )
                for lane in data["lanes"]
            ),
            carriers=tuple(
                CarrierBoard(
                    carrier_id=c["carrier_id"],
                    back_at=_parse(c["back_at"]),
                    out_of_service=bool(c["out_of_service"]),
                    changed_at=_parse(c["changed_at"]),
                    load=tuple(c["load"]),
                )
                for c in data["carriers"]
            ),
            yard=None
            if yard is None
            else YardBoard(
                yard_id=yard["yard_id"],
                bay_count=int(yard["bay_count"]),
                capacity=int(yard["capacity"]),
                round_trip=timedelta(seconds=float(yard["round_trip_s"])),
                per_trip=int(yard["per_trip"]),
                bays=tuple(_required(_service_parse(b)) for b in yard["bays"]),
                queue=tuple(_queued_parse(e) for e in yard["queue"]),
                waiting=tuple(
                    Container(ref, Direction(way), _required(_parse(at)), bool(perishable))
                    for ref, way, at, perishable in yard["waiting"]
                ),
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BoardError(f"malformed board snapshot: {exc!r}") from exc


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _required(value: _T | None) -> _T:
    if value is None:
        raise ValueError("a required value is null")
    return value


def _truck_json(t: Truck) -> dict[str, Any]:
    return {
        "visit_id": t.visit_id,
        "direction": t.direction.value,
        "arrived_at": t.arrived_at.isoformat(),
        "channel": t.channel.value,
        "cargo": sorted(c.value for c in t.cargo),
        "containers": t.containers,
        "booking": t.booking.value,
        "manifest_id": t.manifest_id,
    }


def _truck_parse(d: dict[str, Any]) -> Truck:
    return Truck(
        visit_id=d["visit_id"],
        direction=Direction(d["direction"]),
        arrived_at=datetime.fromisoformat(d["arrived_at"]),
        channel=CustomsChannel(d["channel"]),
        cargo=frozenset(CargoClass(c) for c in d["cargo"]),
        containers=int(d["containers"]),
        booking=BookingStatus(d["booking"]),
        manifest_id=d["manifest_id"],
    )


def _queued_json(e: Queued) -> dict[str, Any]:
    return {
        "truck": _truck_json(e.truck),
        "service_s": e.service.total_seconds(),
        "expected_start_at": e.expected_start_at.isoformat(),
        "expected_done_at": e.expected_done_at.isoformat(),
        "carrier_id": e.carrier_id,
        "departs_at": _time(e.departs_at),
    }


def _queued_parse(d: dict[str, Any]) -> Queued:
    return Queued(
        truck=_truck_parse(d["truck"]),
        service=timedelta(seconds=float(d["service_s"])),
        expected_start_at=datetime.fromisoformat(d["expected_start_at"]),
        expected_done_at=datetime.fromisoformat(d["expected_done_at"]),
        carrier_id=d["carrier_id"],
        departs_at=_parse(d["departs_at"]),
    )


def _service_json(s: InService | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"entry": _queued_json(s.entry), "since": _time(s.since), "until": _time(s.until)}


def _service_parse(d: dict[str, Any] | None) -> InService | None:
    if d is None:
        return None
    return InService(
        _queued_parse(d["entry"]), _required(_parse(d["since"])), _required(_parse(d["until"]))
    )
