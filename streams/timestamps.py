"""Timestamps on the wire are ISO 8601 text with an offset, as the OpenAPI document and the
event schemas say (`format: date-time`). Pydantic alone would also take a number, or numeric
text, as seconds since 1970; `IsoAwareDatetime` and `ISO_ONLY` refuse that with a clear
message (found by the schemathesis run: `/v1/slots?from=0.0` was answered 200)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]|$)")
# a date-time whose `+07:00` came through a URL query unescaped: `+` there reads as a space
_PLUS_AS_SPACE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)? (\d{2}:?\d{2})$")
# a date-time and its zone's name (Java's ZonedDateTime.toString(), RFC 9557): the offset is
# what is taken, alone; and an offset of hours alone (ISO 8601 allows it, RFC 3339 does not)
_ZONE_NAMED = re.compile(r"^(\d{4}-\d{2}-\d{2}[Tt ][\d:.,]+(?:[Zz]|[+-]\d{2}:?\d{2}))(\[.*\])$")
_HOURS_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?([+-]\d{2})$")


def iso_text(value: object) -> object:
    """`value` unchanged if it is a datetime or ISO 8601 text; ValueError otherwise."""
    if isinstance(value, str) and (lost := _PLUS_AS_SPACE.match(value)):
        raise ValueError(
            "has a space where the offset's '+' belongs (in a URL query '+' reads as a "
            f"space: send it as %2B{lost.group(3)})"
        )
    if isinstance(value, str) and (named := _ZONE_NAMED.match(value)):
        raise ValueError(
            f"a zone's name in brackets ({named.group(2)!r}) is not taken: send the date-time "
            f"with its offset alone, e.g. {named.group(1)} (Java: "
            "DateTimeFormatter.ISO_OFFSET_DATE_TIME, not ZonedDateTime.toString())"
        )
    if isinstance(value, str) and (hours := _HOURS_ONLY.match(value)):
        raise ValueError(
            f"the offset {hours.group(1)!r} needs its minutes: {hours.group(1)}:00 "
            "(ISO 8601 with offset, e.g. 2026-11-24T08:00:00+07:00)"
        )
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date-time with offset, e.g. 2026-11-24T08:00:00+07:00")


# The instants borderflow takes: anything outside is a broken clock or a typing error, and
# year 1 or 9999 with an offset does not even convert to UTC (an OverflowError in the
# database driver stopped the decider's partition on one such read, retried for ever).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def in_range(value: datetime | None) -> datetime | None:
    """`value` unchanged if it lies in [2000-01-01, 2200-01-01) UTC (or has no offset, which
    the caller refuses with its own message); ValueError otherwise."""
    if value is None or value.tzinfo is None:
        return value
    try:
        ok = EARLIEST <= value.astimezone(UTC) < LATEST
    except OverflowError:
        ok = False
    if not ok:
        raise ValueError("must be between 2000-01-01 and 2199-12-31 (UTC)")
    return value


ISO_ONLY = BeforeValidator(iso_text)
IN_RANGE = AfterValidator(in_range)
IsoAwareDatetime = Annotated[AwareDatetime, ISO_ONLY, IN_RANGE]


def as_utc(value: datetime | None) -> datetime | None:
    """`value` at UTC (an aware one; a naive one or None unchanged): what borderflow sends
    is spelt in UTC whatever offset the event it came from was sent at."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC)


# a time borderflow produces: written out in UTC (`...Z`)
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
