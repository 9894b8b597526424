"""The domain's basic words: directions, camera roles, customs and booking states, daily
hours and the manifest. Imports nothing of `lanes`, so every other module of the domain (the
model, the booking and alert rules, the board) may build on it without a circle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Literal


class Direction(StrEnum):
    EXPORT = "export"  # Vietnam -> China
    IMPORT = "import"  # China -> Vietnam


class CameraRole(StrEnum):
    APPROACH = "approach"
    GATE_IN = "gate_in"
    LANE_ENTRY = "lane_entry"
    EXIT = "exit"


class CustomsChannel(StrEnum):
    """Customs risk channel: green passes on documents, yellow is scanned, red inspected."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class BookingStatus(StrEnum):
    """A truck against its booked crossing slot, when it arrives."""

    ON_TIME = "on_time"
    EARLY = "early"
    LATE = "late"  # late, but within the grace period: still holds the slot
    WALK_IN = "walk_in"  # no booking, or more than the grace period late


class CustomsStatus(StrEnum):
    CLEARED = "cleared"
    PENDING = "pending"
    INSPECT = "inspect"


@dataclass(frozen=True, slots=True)
class DailyHours:
    """Windows of the day in the gate's local time, each [start, end); an end at or before its
    start runs past midnight. No windows at all: always."""

    windows: tuple[tuple[time, time], ...] = ()

    def contains(self, at: datetime, utc_offset: timedelta) -> bool:
        if not self.windows:
            return True
        local = (at.astimezone(UTC) + utc_offset).time().replace(tzinfo=None)
        for start, end in self.windows:
            if start < end:
                if start <= local < end:
                    return True
            elif local >= start or local < end:
                return True
        return False


ALWAYS = DailyHours()


@dataclass(frozen=True, slots=True)
class Manifest:
    """The electronic declaration of one crossing (plates are stored normalised)."""

    manifest_id: str
    firm_id: str
    direction: Direction
    tractor_plate: str
    trailer_plate: str | None = None
    containers: tuple[str, ...] = ()
    cargo_description: str = ""
    hs_codes: tuple[str, ...] = ()
    gross_weight_kg: float | None = None
    perishable: bool = False
    hazmat_class: str | None = None
    customs_status: CustomsStatus = CustomsStatus.CLEARED
    window_start: datetime | None = None
    window_end: datetime | None = None
    # the risk channel customs gave it; None: green when cleared, red when to inspect
    customs_channel: CustomsChannel | None = None


def zone_name(utc_offset: timedelta) -> str:
    """The gate's zone as its offset from UTC, for people: `UTC+07:00`, `UTC-03:30`, `UTC`."""
    minutes = int(utc_offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def gate_clock(
    at: datetime,
    utc_offset: timedelta,
    *,
    day_of: datetime | None = None,
    zone: Literal["", "named", "local"] = "",
) -> str:
    """`at` on the gate's clock (its `utc_offset`), for people: `10:14` when `day_of` is given
    and `at` is on its local day, else `2026-11-24 10:14`; `zone`: "named" adds
    ` (UTC+07:00)`, "local" adds ` local (UTC+07:00)`. The one way of the alerts, the
    crossings and the booking refusals to tell a time."""
    local = at.astimezone(UTC) + utc_offset
    same_day = day_of is not None and local.date() == (day_of.astimezone(UTC) + utc_offset).date()
    shown = f"{local:%H:%M}" if same_day else f"{local:%Y-%m-%d %H:%M}"
    if zone == "named":
        return f"{shown} ({zone_name(utc_offset)})"
    if zone == "local":
        return f"{shown} local ({zone_name(utc_offset)})"
    return shown
