"""The drivers' pages' JSON as the OpenAPI document states it (wire formats only): a page's
data (`GET /d/{token}/state`, and each `state` event of its stream), one shape per
`status`, and the answer to a check-in from the page (its refusal's problem, with the
page's words, is the API's: `services.api.problems.PageProblem`). The page's data is built as dicts
(`services/drivers/view.py`, the booking and call-forward adapters); a test holds each
builder's output to these models (tests/unit/test_driver_page_schemas.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

_HHMM = Field(pattern=r"^[0-2][0-9]:[0-5][0-9]$", description="the gate's local time, HH:MM")
_ZONE = Field(description="the gate's offset, shown with each time (`UTC+07:00`)")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _absent(description: str) -> Any:
    """A member the page's data leaves out when it has no value (never `null`)."""
    return Field(default=None, description=description, json_schema_extra=_no_default)


_ISO = "ISO 8601 at the gate's offset"


def _instant(description: str, *, absent: bool = False) -> Any:
    """An instant the page's data writes as an RFC 3339 date-time at the gate's offset:
    `format: date-time` in the document, so that a generated client reads it as one (it
    was a plain string until 2026-12-06 late); `absent`: left out when it has no value."""

    def extra(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        schema["format"] = "date-time"

    if absent:
        return Field(default=None, description=description, json_schema_extra=extra)
    return Field(description=description, json_schema_extra=extra)


class _Page(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BookedPage(_Page):
    """Booked, the truck not yet in the waiting area."""

    status: Literal["booked"]
    slot_start: str | SkipJsonSchema[None] = _instant(
        f"the booked slot's start, {_ISO}", absent=True
    )
    slot_end: str | SkipJsonSchema[None] = _instant(f"its end, {_ISO}", absent=True)
    waiting_area: Literal[False] | SkipJsonSchema[None] = _absent(
        "false: the gate has no waiting area for the truck's direction: the driver drives "
        "to the gate for the slot, and there is no check-in; left out: the driver drives to "
        "the waiting area and checks in there"
    )


class WaitingPage(_Page):
    """In the waiting area, not called yet."""

    status: Literal["waiting"]
    position: int = Field(ge=1, description="1: the next to be called")
    expected_call: str = _HHMM
    expected_at: str = _instant(f"the expected call, {_ISO}")
    as_of: str = _HHMM
    zone: str = _ZONE


class CalledPage(_Page):
    """Called to the gate (`recalled`: called again, the last chance)."""

    status: Literal["called", "recalled"]
    lane_id: str | None
    carrier_slot: str | None
    way: Literal["lane", "yard"]
    yard: str | None
    gate: str
    called_at: str = _HHMM
    be_there_by: str = _HHMM
    deadline: str | SkipJsonSchema[None] = _instant(
        f"`be_there_by` in full, {_ISO}: past it (by the server's clock, the stream's "
        "`clock`) the page says the truck is late (`recalled`: its place is lost unless at "
        "the gate); absent on a page written before 2026-12-06 late",
        absent=True,
    )
    zone: str = _ZONE


class LostPage(_Page):
    """The truck did not come when called, nor when recalled: its place is lost."""

    status: Literal["lost"]
    reason: str = Field(description="why, in English (the page words a missed call itself)")
    missed: str | SkipJsonSchema[None] = _absent("the recall's deadline missed, HH:MM local")
    zone: str | SkipJsonSchema[None] = _absent("the gate's offset, with `missed`")


class AtGatePage(_Page):
    """The called truck reached the gate."""

    status: Literal["at_gate"]
    reached_at: str | SkipJsonSchema[None] = _instant(
        f"when, {_ISO}, to the minute (left out on a page written before 2026-12-06)",
        absent=True,
    )
    zone: str | SkipJsonSchema[None] = _absent("the gate's offset, with `reached_at`")


class EndedPage(_Page):
    """The booking ended: cancelled, not shown, lost for being late, used."""

    status: Literal["cancelled", "no_show", "lost_late", "used"]


class DriverPageState(RootModel[Any]):
    """A driver's page's data: its shape follows `status`."""

    root: Annotated[
        BookedPage | WaitingPage | CalledPage | LostPage | AtGatePage | EndedPage,
        Field(discriminator="status"),
    ]


class PageCheckIn(BaseModel):
    """The driver's check-in, taken."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"checked_in": True, "recorded": True, "at": "2026-12-05T08:00:00Z"}]
        },
    )

    checked_in: Literal[True]
    recorded: bool = Field(
        description="false: a check-in less than 5 minutes before stands, and this one "
        "added nothing"
    )
    at: datetime = Field(description="when the check-in that stands was made (UTC)")
