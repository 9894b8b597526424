"""The manifest intake form: one JSON object per manifest, the same on every way in (HTTP
`POST /v1/manifests`, `borderflow manifests import`, the `borderflow.manifests` topic and
`borderflow match --manifests`). Refusals name the field and the reason."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict

from lanes.containers import container_error, normalise_container
from lanes.model import CustomsChannel, CustomsStatus, Direction, Manifest
from lanes.plates import PlateKind, parse_plate
from streams.errors import InvalidEvent
from streams.jsonbody import load_object
from streams.timestamps import IsoAwareDatetime

MANIFEST_TYPE = "manifest"
MAX_WINDOW = timedelta(days=7)

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
# what an id may hold, said in words: a refusal that quoted ID_PATTERN told a firm nothing
ID_WORDS = (
    "an id is 1 to 64 characters: letters (A-Z, a-z), digits and . _ : - only, starting "
    "with a letter or a digit, no spaces"
)


def normalise_id(value: object) -> object:
    """An id as a client sent it (a manifest's in a body, a path, a query, a topic's event),
    with the blanks around it dropped, as `POST /v1/manifests` always did; one not of the
    id alphabet is refused in words (`ID_WORDS`). Not a string: left to the type's check."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if value and re.fullmatch(ID_PATTERN, value) is None:
        raise ValueError(ID_WORDS)
    return value


Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN),
    # after the constraints, so it runs before them and the schema keeps the pattern
    BeforeValidator(normalise_id),
]
HsCode = Annotated[str, StringConstraints(pattern=r"^\d{4}(\.?\d{2}){0,3}$")]


class CargoV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)] = ""
    hs_codes: list[HsCode] = Field(default_factory=list, max_length=50)
    gross_weight_kg: Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)] | None = None


# The rules the schema cannot say exactly (a pattern would be stricter or looser than the
# check: plates and containers are normalised first, a container has a check digit, a
# window's bounds are instants in UTC), said in the fields' descriptions of the OpenAPI
# document instead (found by a schema-driven client: schema-valid manifests were refused).
_PLATE = (
    "a Vietnamese plate (province 01-99, 1-2 letters, 4-5 digits, e.g. 29H12345 or "
    "'29H-123.45') or a Chinese one (province character, a letter, 5 letters or digits, "
    "no I or O, e.g. 桂A12345; new-energy D or F and 5 more); spaces, dots and dashes are "
    "dropped, letters upper-cased and a Vietnamese Đ read as D before the check; stored so"
)
_WHEN = "ISO 8601 with offset, between 2000-01-01 and 2199-12-31 (UTC)"
# `_channel`'s rule said in JSON Schema, exactly: a manifest whose customs_status is
# "inspect" has a customs_channel other than "green" (or none); schema-valid before, refused
NOT_GREEN_IF_INSPECT: JsonDict = {
    "if": {"properties": {"customs_status": {"const": "inspect"}}, "required": ["customs_status"]},
    "then": {"properties": {"customs_channel": {"not": {"const": "green"}}}},
}
EXAMPLE: JsonDict = {
    "manifest_id": "MF-2026-0001",
    "direction": "export",
    "tractor_plate": "29H12345",
    "trailer_plate": "29R01234",
    "containers": ["CSQU3054383"],
    "cargo": {"description": "dragon fruit", "hs_codes": ["0810.90"], "gross_weight_kg": 18500},
    "perishable": True,
    "customs_status": "cleared",
    "customs_channel": "green",
    "window_start": "2026-12-07T06:00:00+07:00",
    "window_end": "2026-12-07T18:00:00+07:00",
}


class ManifestV1(BaseModel):
    """A manifest as declared. Plates and container numbers are checked against their rules
    and stored normalised; `firm_id` may be left out only where the caller's firm is known
    (HTTP, from the API key)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [EXAMPLE], **NOT_GREEN_IF_INSPECT},
    )

    manifest_id: Identifier
    firm_id: Identifier | None = None
    direction: Direction
    tractor_plate: str = Field(description=f"the tractor's plate: {_PLATE}; not a trailer's")
    trailer_plate: str | None = Field(
        default=None,
        description="the trailer's plate, if any, a trailer's: series R in Vietnam (e.g. "
        f"29R01234), ending in 挂 in China; read as a tractor's is: {_PLATE}; empty or null: "
        "none",
    )
    containers: list[str] = Field(
        default_factory=list,
        max_length=4,
        description="ISO 6346 container numbers (owner code, category U, J or Z, 6 digits, "
        "the check digit: 11 characters once spaces and dashes are dropped, e.g. CSQU3054383), "
        "each at most once; stored upper-case without separators",
    )
    cargo: CargoV1 = Field(default_factory=CargoV1)
    perishable: bool = False
    hazmat_class: (
        Annotated[str, StringConstraints(pattern=r"^[1-9](\.[1-6][A-Z]?)?$", strip_whitespace=True)]
        | None
    ) = None
    customs_status: CustomsStatus
    # the risk channel customs gave it (green: documents, yellow: scan, red: inspection)
    customs_channel: CustomsChannel | None = Field(
        default=None, description="not 'green' when customs_status is 'inspect'"
    )
    window_start: IsoAwareDatetime = Field(description=f"the crossing window's start: {_WHEN}")
    window_end: IsoAwareDatetime = Field(
        description=f"after window_start, at most 7 days after it: {_WHEN}"
    )

    @field_validator("tractor_plate")
    @classmethod
    def _tractor(cls, value: str) -> str:
        parsed = parse_plate(value)
        if not parsed.valid:
            raise ValueError(f"{value!r} is neither a Vietnamese nor a Chinese plate")
        if parsed.kind is PlateKind.TRAILER:
            raise ValueError(f"{value!r} is a trailer's plate, not a tractor's")
        return parsed.text

    @field_validator("trailer_plate")
    @classmethod
    def _trailer(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = parse_plate(value)
        if not parsed.valid:
            raise ValueError(f"{value!r} is neither a Vietnamese nor a Chinese plate")
        if parsed.kind is not PlateKind.TRAILER:
            raise ValueError(
                f"{value!r} is a motor vehicle's plate; a trailer's is series R (Vietnam) "
                "or ends in 挂 (China)"
            )
        return parsed.text

    @field_validator("containers")
    @classmethod
    def _containers(cls, value: list[str]) -> list[str]:
        numbers = []
        for number in value:
            error = container_error(number)
            if error is not None:
                raise ValueError(error)
            numbers.append(normalise_container(number))
        if len(set(numbers)) != len(numbers):
            raise ValueError("a container number is listed twice")
        return numbers

    @field_validator("customs_channel")
    @classmethod
    def _channel(cls, value: CustomsChannel | None, info: ValidationInfo) -> CustomsChannel | None:
        status = info.data.get("customs_status")
        if value is CustomsChannel.GREEN and status is CustomsStatus.INSPECT:
            raise ValueError(
                "'green' contradicts customs_status 'inspect': a truck to inspect is on the "
                "yellow (scan) or red (inspection) channel"
            )
        return value

    @field_validator("window_end")
    @classmethod
    def _window(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("window_start")
        if start is None:
            return value
        if value <= start:
            raise ValueError(f"must be after window_start ({start.isoformat()})")
        if value - start > MAX_WINDOW:
            raise ValueError(f"the crossing window may span at most {MAX_WINDOW.days} days")
        return value

    def to_domain(self, *, firm_id: str | None = None) -> Manifest:
        firm = firm_id or self.firm_id
        if firm is None:
            raise InvalidEvent("firm_id: required")
        return Manifest(
            manifest_id=self.manifest_id,
            firm_id=firm,
            direction=self.direction,
            tractor_plate=self.tractor_plate,
            trailer_plate=self.trailer_plate,
            containers=tuple(self.containers),
            cargo_description=self.cargo.description,
            hs_codes=tuple(self.cargo.hs_codes),
            gross_weight_kg=self.cargo.gross_weight_kg,
            perishable=self.perishable,
            hazmat_class=self.hazmat_class,
            customs_status=self.customs_status,
            window_start=self.window_start,
            window_end=self.window_end,
            customs_channel=self.customs_channel,
        )


def manifest_to_wire(manifest: Manifest) -> ManifestV1:
    return ManifestV1(
        manifest_id=manifest.manifest_id,
        firm_id=manifest.firm_id,
        direction=manifest.direction,
        tractor_plate=manifest.tractor_plate,
        trailer_plate=manifest.trailer_plate,
        containers=list(manifest.containers),
        cargo=CargoV1(
            description=manifest.cargo_description,
            hs_codes=list(manifest.hs_codes),
            gross_weight_kg=manifest.gross_weight_kg,
        ),
        perishable=manifest.perishable,
        hazmat_class=manifest.hazmat_class,
        customs_status=manifest.customs_status,
        customs_channel=manifest.customs_channel,
        window_start=manifest.window_start,
        window_end=manifest.window_end,
    )


def describe_errors(exc: ValidationError, *, prefix: str = "") -> str:
    """`field: reason; field: reason` from a pydantic error, dotted paths, no URLs."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "manifest"
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{prefix}{where}: {message}")
    return "; ".join(parts)


class ManifestEnvelopeV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    type: Literal["manifest"]
    version: Literal[1]
    occurred_at: AwareDatetime
    producer: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    data: ManifestV1


def decode_manifest(raw: bytes | str | None, *, require_firm: bool = True) -> ManifestV1:
    """A manifest from JSON, bare or enveloped (`type` "manifest"), or InvalidEvent with the
    field and the reason."""
    obj = load_object(raw, what="a manifest")
    try:
        if "data" in obj and "type" in obj:
            manifest = ManifestEnvelopeV1.model_validate(obj).data
        else:
            manifest = ManifestV1.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(describe_errors(exc)) from exc
    if require_firm and manifest.firm_id is None:
        raise InvalidEvent(
            "firm_id: Field required (the declarant's firm id: only POST /v1/manifests may "
            "leave it out, where the API key names the firm)"
        )
    return manifest
