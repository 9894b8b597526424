"""The gate file's schema (pydantic, unknown keys refused, no type coercion) and the checks
that span several fields (unique ids, a lane for every cleared truck). Durations are minutes,
hours local "HH:MM-HH:MM" windows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time, timedelta
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from lanes.model import CameraRole, CargoClass, CustomsChannel, Direction, LaneKind

Problem = tuple[str, str]  # (dotted path, reason)

_WINDOW = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_DAY_MIN = 24 * 60
WHOLE_DAY = "00:00-24:00"


def _clock(hours: str, minutes: str, *, end: bool) -> time:
    h, m = int(hours), int(minutes)
    if end and (h, m) == (24, 0):
        return time(0)
    if h > 23 or m > 59:
        raise ValueError(f"{hours}:{minutes} is not a time of day (00:00-23:59; 24:00 as an end)")
    return time(h, m)


def window_of(text: str) -> tuple[time, time]:
    """`"06:00-22:00"` -> (06:00, 22:00); "24:00" only as an end; "00:00-24:00" is the whole
    day (start == end), any other empty window an error."""
    match = _WINDOW.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window 'HH:MM-HH:MM' (e.g. '06:00-22:00')")
    start = _clock(match[1], match[2], end=False)
    end = _clock(match[3], match[4], end=True)
    if start == end and text != WHOLE_DAY:
        raise ValueError(f"{text!r} is empty; write '00:00-24:00' for the whole day")
    return start, end


def offset_of(text: str) -> timedelta:
    """`"+07:00"` -> 7 hours; from -12:00 to +14:00."""
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a UTC offset '+HH:MM' (e.g. '+07:00')")
    offset = timedelta(hours=int(match[2]), minutes=int(match[3]))
    if int(match[3]) > 59 or offset > timedelta(hours=14 if match[1] == "+" else 12):
        raise ValueError(f"{text!r} is not a UTC offset (-12:00 to +14:00)")
    return -offset if match[1] == "-" else offset


def _window(text: str) -> str:
    window_of(text)
    return text


def _offset(text: str) -> str:
    offset_of(text)
    return text


T = TypeVar("T")


def _unique(values: list[T]) -> list[T]:
    seen: set[T] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{str(value)!r} is listed twice")
        seen.add(value)
    return values


Id = Annotated[
    str,
    StringConstraints(
        strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
    ),
]
Name = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]
Minutes = Annotated[float, Field(strict=True, gt=0, le=_DAY_MIN, allow_inf_nan=False)]
Spread = Annotated[float, Field(strict=True, ge=0, le=_DAY_MIN, allow_inf_nan=False)]
Count = Annotated[int, Field(strict=True, gt=0)]
Window = Annotated[str, Field(strict=True), AfterValidator(_window)]
Hours = Annotated[list[Window], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DurationConfig(_Strict):
    """A random duration: lognormal around its mean, `sd_min` 0 for a fixed one."""

    distribution: Literal["lognormal"] = "lognormal"
    mean_min: Minutes
    sd_min: Spread = 0.0


class CameraConfig(_Strict):
    camera_id: Id
    direction: Direction
    role: CameraRole


class LaneGroupConfig(_Strict):
    """Lanes alike but for their ids: one kind, one direction, the same service and hours."""

    ids: Annotated[list[Id], Field(min_length=1), AfterValidator(_unique)]
    direction: Direction
    kind: LaneKind
    accepts: Annotated[list[CargoClass], Field(min_length=1), AfterValidator(_unique)]
    channels: Annotated[list[CustomsChannel], Field(min_length=1), AfterValidator(_unique)]
    service: DurationConfig
    hours: Hours | None = None  # None: always open


class CarrierConfig(_Strict):
    carrier_id: Id
    # when it is on charge, not running: required, since no windows at all would read as
    # "always" (`lanes.model.DailyHours`)
    charging: Annotated[list[Window], Field(min_length=1)]


class YardConfig(_Strict):
    yard_id: Id
    name: Name
    bays: Count
    handover: DurationConfig
    capacity: Count


class FleetConfig(_Strict):
    round_trip: DurationConfig
    containers_per_trip: Count = 1
    hours: Hours | None = None  # None: always running
    carriers: Annotated[list[CarrierConfig], Field(min_length=1)]
    yard: YardConfig


class SlotCapacityConfig(_Strict):
    export: Annotated[int, Field(strict=True, ge=0)]
    import_: Annotated[int, Field(strict=True, ge=0, alias="import")]


class PartialCapacityConfig(_Strict):
    export: int | None = Field(default=None, strict=True, ge=0)
    import_: int | None = Field(default=None, strict=True, ge=0, alias="import")


class CapacityOverrideConfig(_Strict):
    """Capacity per slot for the slots starting inside these local hours."""

    hours: Hours
    capacity: PartialCapacityConfig


def _divides_day(minutes: int) -> int:
    if _DAY_MIN % minutes:
        raise ValueError(f"{minutes} min does not divide a day: slots must tile 00:00-24:00")
    return minutes


class BookingConfig(_Strict):
    """Crossing slots firms may book (`lanes.bookings.BookingRules`)."""

    slot_min: Annotated[int, Field(strict=True, gt=0, le=_DAY_MIN), AfterValidator(_divides_day)]
    capacity: SlotCapacityConfig
    overrides: list[CapacityOverrideConfig] = []
    perishable_share: Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
    horizon_days: Annotated[int, Field(strict=True, gt=0, le=366)]
    cutoff_min: Annotated[int, Field(strict=True, ge=0, le=_DAY_MIN)]
    grace_min: Annotated[int, Field(strict=True, ge=0, le=_DAY_MIN)]
    hours: Hours


Share = Annotated[float, Field(strict=True, ge=0, le=10, allow_inf_nan=False)]
Seconds = Annotated[float, Field(strict=True, gt=0, le=_DAY_MIN * 60, allow_inf_nan=False)]


class AlertsConfig(_Strict):
    """The risk-alert rules' parameters (`lanes.alerts.AlertRules`); each left out keeps
    its default. Durations in minutes but `burst_window_s`."""

    min_reads: Count | None = None
    min_return_min: Minutes | None = None
    expected_transit_min: Minutes | None = None
    transit_margin_min: Spread | None = None
    amend_window_min: Minutes | None = None
    weight_tolerance: Share | None = None
    weight_tolerance_kg: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)] | None = (
        None
    )
    no_show_min_bookings: Count | None = None
    no_show_rate: Annotated[float, Field(strict=True, gt=0, le=1, allow_inf_nan=False)] | None = (
        None
    )
    rebook_window_min: Minutes | None = None
    burst_count: Count | None = None
    burst_window_s: Seconds | None = None


class WaitingAreaConfig(_Strict):
    """A waiting area trucks are called forward from (`lanes.model.WaitingArea`)."""

    area_id: Id
    name: Name
    direction: Direction
    camera_id: Id  # one of `cameras`: an approach camera of the same direction
    capacity: Count
    drive_time_min: Minutes
    call_lead_min: Spread = 0.0
    grace_min: Minutes = 10.0
    reentry_min: Minutes = 10.0


class CorridorConfig(_Strict):
    """The other side of the gate (issue 21, services/xborder/corridor.py): which side this
    gate is, the other side's gate, and how long the road between them takes."""

    side: Literal["VN", "CN"]
    peer_gate_id: Id
    expected_transit_min: Minutes
    margin_min: Spread


class GateConfig(_Strict):
    schema_version: Literal[1]
    gate_id: Id
    name: Name
    utc_offset: Annotated[str, Field(strict=True), AfterValidator(_offset)]
    visit_window_min: Minutes
    approach_time_min: Spread
    cameras: Annotated[list[CameraConfig], Field(min_length=1)]
    lanes: Annotated[list[LaneGroupConfig], Field(min_length=1)]
    fleet: FleetConfig | None = None
    booking: BookingConfig | None = None
    alerts: AlertsConfig | None = None  # None: every rule with its defaults
    waiting_areas: list[WaitingAreaConfig] = []
    corridor: CorridorConfig | None = None  # issue 21: the link to the other side


def check_gate(config: GateConfig) -> list[Problem]:
    """The faults no single field shows: duplicate ids (the yard's among the lanes'), a hazmat
    lane refusing hazmat cargo, a direction without a gate-in camera or without a lane for
    cleared general cargo."""
    problems = _duplicates(
        "camera", ((f"cameras[{i}].camera_id", c.camera_id) for i, c in enumerate(config.cameras))
    )
    problems += _duplicates(
        "lane",
        (
            (f"lanes[{i}].ids[{j}]", lane_id)
            for i, group in enumerate(config.lanes)
            for j, lane_id in enumerate(group.ids)
        ),
    )
    if config.fleet is not None:
        problems += _yard_id_problems(config)
        carriers = config.fleet.carriers
        problems += _duplicates(
            "carrier",
            ((f"fleet.carriers[{i}].carrier_id", c.carrier_id) for i, c in enumerate(carriers)),
        )
        problems += [
            (f"fleet.carriers[{i}].charging[{j}]", "a carrier cannot be on charge all day")
            for i, carrier in enumerate(carriers)
            for j, window in enumerate(carrier.charging)
            if window == WHOLE_DAY
        ]
        problems += [
            (f"fleet.carriers[{i}].charging", "a carrier cannot be on charge all day")
            for i, carrier in enumerate(carriers)
            if WHOLE_DAY not in carrier.charging and _covers_day(carrier.charging)
        ]
    for i, group in enumerate(config.lanes):
        if group.kind is LaneKind.HAZMAT and CargoClass.HAZMAT not in group.accepts:
            problems.append((f"lanes[{i}].accepts", "a hazmat lane must accept 'hazmat' cargo"))
    for direction in Direction:
        problems += _direction_problems(config, direction)
    if config.booking is not None:
        problems += _booking_problems(config.booking)
    problems += _waiting_area_problems(config)
    return problems


def _yard_id_problems(config: GateConfig) -> list[Problem]:
    """The yard's id is not a lane's: a lane event's `lane_id` names either."""
    assert config.fleet is not None
    yard_id = config.fleet.yard.yard_id
    return [
        (
            "fleet.yard.yard_id",
            f"{yard_id!r} is also a lane id (lanes[{i}].ids[{j}]): "
            "a lane event's lane_id names a lane or the yard",
        )
        for i, group in enumerate(config.lanes)
        for j, lane_id in enumerate(group.ids)
        if lane_id == yard_id
    ][:1]


def _covers_day(windows: Iterable[str]) -> bool:
    """Whether local windows cover every minute of the day between them."""
    covered: set[int] = set()
    for window in windows:
        start, end = window_of(window)
        first, last = start.hour * 60 + start.minute, end.hour * 60 + end.minute
        if last <= first:  # past midnight
            last += _DAY_MIN
        covered.update(m % _DAY_MIN for m in range(first, last))
    return len(covered) == _DAY_MIN


def _waiting_area_problems(config: GateConfig) -> list[Problem]:
    """Each area's camera is an approach camera of its direction; one area a direction."""
    problems: list[Problem] = []
    cameras = {c.camera_id: c for c in config.cameras}
    seen: dict[Direction, int] = {}
    for i, area in enumerate(config.waiting_areas):
        camera = cameras.get(area.camera_id)
        if camera is None:
            problems.append((f"waiting_areas[{i}].camera_id", f"no camera {area.camera_id!r}"))
        elif camera.direction is not area.direction:
            reason = f"camera {area.camera_id!r} is a {camera.direction.value} camera"
            problems.append((f"waiting_areas[{i}].camera_id", reason))
        elif camera.role is not CameraRole.APPROACH:
            # a read there is a truck waiting, decided when another camera of the gate reads
            # it: at a gate-in camera it would never be, at the exit never queued
            reason = (
                f"camera {area.camera_id!r} is a {camera.role.value} camera: a waiting area's "
                "camera is an approach camera, ahead of the gate"
            )
            problems.append((f"waiting_areas[{i}].camera_id", reason))
        if area.direction in seen:
            first = seen[area.direction]
            reason = f"a second {area.direction.value} area (first at waiting_areas[{first}])"
            problems.append((f"waiting_areas[{i}].direction", reason))
        seen.setdefault(area.direction, i)
    problems += _duplicates(
        "waiting area",
        ((f"waiting_areas[{i}].area_id", a.area_id) for i, a in enumerate(config.waiting_areas)),
    )
    return problems


def _booking_problems(booking: BookingConfig) -> list[Problem]:
    """Windows that cut a slot in two: slots start every `slot_min` from local midnight."""
    problems: list[Problem] = []
    places = [(f"booking.hours[{i}]", w) for i, w in enumerate(booking.hours)]
    places += [
        (f"booking.overrides[{i}].hours[{j}]", w)
        for i, o in enumerate(booking.overrides)
        for j, w in enumerate(o.hours)
    ]
    for where, window in places:
        for edge in window_of(window):
            if (edge.hour * 60 + edge.minute) % booking.slot_min:
                problems.append(
                    (where, f"{edge:%H:%M} is not a slot boundary ({booking.slot_min}-min slots)")
                )
    return problems


def _direction_problems(config: GateConfig, direction: Direction) -> list[Problem]:
    problems: list[Problem] = []
    cameras = [c for c in config.cameras if c.direction is direction]
    if not cameras and not any(g.direction is direction for g in config.lanes):
        # a one-way crossing: said once, as what it is, not as a forgotten camera and lane
        reason = (
            f"no {direction.value} camera and no {direction.value} lane: a gate serves both "
            f"directions, export and import (a one-way crossing is not supported: give "
            f"{direction.value} a gate_in camera and a lane for general cargo on the green "
            "channel)"
        )
        return [("lanes", reason)]
    if not any(c.role is CameraRole.GATE_IN for c in cameras):
        problems.append(("cameras", f"no gate_in camera for {direction.value}: none is seen"))
    if not any(_takes_cleared_general(g) for g in config.lanes if g.direction is direction):
        problems.append(
            (
                "lanes",
                f"no {direction.value} lane accepts 'general' cargo on the 'green' channel: "
                "a truck cleared on its documents would have nowhere to go",
            )
        )
    return problems


def _takes_cleared_general(group: LaneGroupConfig) -> bool:
    return CargoClass.GENERAL in group.accepts and CustomsChannel.GREEN in group.channels


def _duplicates(what: str, ids: Iterable[tuple[str, str]]) -> list[Problem]:
    first: dict[str, str] = {}
    problems: list[Problem] = []
    for where, value in ids:
        if value in first:
            problems.append((where, f"duplicate {what} id {value!r} (first at {first[value]})"))
        else:
            first[value] = where
    return problems
