"""The gates a request may name, said in the OpenAPI document: each `gate` parameter (and a
booking's `gate`) lists the ids of the gates this system runs as an `enum`, exactly what the
API takes. Without it a schema-driven client (schemathesis) sent `gate: "0"`, a valid string
by the document, and was refused (422 unknown gate on `POST /v1/bookings`, 404 elsewhere)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from lanes.model import Gate
from lanes.values import zone_name
from services.api.booking_schemas import RESCHEDULE_SLOT_START, SLOT_FIGURES, SLOT_START

# the operations that need a gate taking bookings (`booking_gate`); the others take any gate
_BOOKING_PATHS = ("/v1/slots", "/v1/bookings")


def document_gates(schema: dict[str, Any], gates: Mapping[str, Gate]) -> dict[str, Any]:
    """`schema` (an OpenAPI document) with the ids of `gates` as the enum of every `gate`."""
    every = sorted(gates)
    booking = sorted(gate_id for gate_id, gate in gates.items() if gate.booking is not None)
    for path, operations in schema.get("paths", {}).items():
        ids = booking if path.startswith(_BOOKING_PATHS) else every
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "gate" and parameter.get("in") == "query":
                    _enum(parameter.get("schema", {}), ids)
    components = schema.get("components", {}).get("schemas", {})
    body = components.get("BookingRequest", {})
    _enum(body.get("properties", {}).get("gate", {}), booking)
    # the slot figures of these gates, from the constants (the document is cached: each call
    # writes the descriptions afresh)
    figures = slot_figures({gate_id: gates[gate_id] for gate_id in booking})
    for name, text in (
        ("BookingRequest", SLOT_START),
        ("RescheduleRequest", RESCHEDULE_SLOT_START),
    ):
        slot_start = components.get(name, {}).get("properties", {}).get("slot_start")
        if slot_start is not None and figures:
            slot_start["description"] = text.replace(SLOT_FIGURES, figures)
    return schema


def slot_figures(gates: Mapping[str, Gate]) -> str:
    """Each booking gate's slot length, bookable hours, zone, horizon and cut-off, for a
    reader of `slot_start`: `at huu-nghi: 60-min slots within 06:00-22:00 at UTC+07:00, up to
    7 days ahead, until 30 min before the slot`."""
    told = []
    for gate_id, gate in sorted(gates.items()):
        rules = gate.booking
        if rules is None:
            continue
        windows = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in rules.hours.windows)
        told.append(
            f"at {gate_id}: {rules.slot_length // timedelta(minutes=1)}-min slots within "
            f"{windows} at {zone_name(gate.utc_offset)}, up to {rules.horizon.days} days ahead, "
            f"until {rules.cutoff // timedelta(minutes=1)} min before the slot"
        )
    return "; ".join(told)


def _enum(schema: dict[str, Any], ids: Iterable[str]) -> None:
    """The enum on the string in `schema` (a `str | None` is an `anyOf` of string and null)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["enum"] = list(ids)
