"""Timestamps on the wire are ISO 8601 text with an offset, as the OpenAPI document and the
event schemas say (`format: date-time`). Pydantic alone would also take a number, or numeric
text, as seconds since 1970; `IsoAwareDatetime` and `ISO_ONLY` refuse that with a clear
message (found by the schemathesis run: `/v1/slots?from=0.0` was answered 200)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]|$)")


def iso_text(value: object) -> object:
    """`value` unchanged if it is a datetime or ISO 8601 text; ValueError otherwise."""
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date-time with offset, e.g. 2026-11-24T08:00:00+07:00")


ISO_ONLY = BeforeValidator(iso_text)
IsoAwareDatetime = Annotated[AwareDatetime, ISO_ONLY]
