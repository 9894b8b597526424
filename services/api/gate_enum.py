"""The gates a request may name, said in the OpenAPI document: each `gate` parameter (and a
booking's `gate`) lists the ids of the gates this system runs as an `enum`, exactly what the
API takes. Without it a schema-driven client (schemathesis) sent `gate: "0"`, a valid string
by the document, and was refused (422 unknown gate on `POST /v1/bookings`, 404 elsewhere)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lanes.model import Gate

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
    body = schema.get("components", {}).get("schemas", {}).get("BookingRequest", {})
    _enum(body.get("properties", {}).get("gate", {}), booking)
    return schema


def _enum(schema: dict[str, Any], ids: Iterable[str]) -> None:
    """The enum on the string in `schema` (a `str | None` is an `anyOf` of string and null)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["enum"] = list(ids)
