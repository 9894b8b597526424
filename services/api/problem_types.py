"""Which problem types each firm operation's refusals carry, in the OpenAPI document: each
problem answer of a firm's operation lists its types (`x-problem-types`, and in words in its
description), so a client generated from the document can switch on `type` knowing every
case; the document gave the statuses only. `tests/integration/test_openapi_responses.py`
holds real refusals to these lists."""

from __future__ import annotations

from typing import Any

FIRM_PATHS = ("/v1/manifests", "/v1/bookings", "/v1/slots", "/v1/firm")
_PREFIX = "urn:borderflow:problem:"
# what any firm operation may answer with each status (a body, a query, a key, a rate)
_ANY: dict[str, tuple[str, ...]] = {
    "400": ("invalid-json",),
    "401": ("unauthorized",),
    "413": ("body-too-large",),
    "415": ("unsupported-media-type",),
    "422": (
        "invalid-request",
        "invalid-text",
        "unknown-parameter",
        "repeated-parameter",
        "repeated-member",
    ),
    "429": ("rate-limited",),
}
_BOOKING = "/v1/bookings/{booking_id}"
# what each operation adds, by status (services/api/bookings.py `_STATUS`, manifests.py,
# slots.py `booking_gate`)
_OWN: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("post", "/v1/manifests"): {
        "403": ("firm-mismatch",),
        "409": ("manifest-booked", "manifest-id-taken"),
    },
    ("get", "/v1/manifests/{manifest_id}"): {"404": ("manifest-not-found",)},
    ("post", "/v1/bookings"): {
        "404": ("manifest-not-found",),
        "409": ("already-booked", "slot-full", "idempotency-key-reused"),
        "422": ("slot-not-bookable", "no-bookings", "unknown-gate"),
    },
    ("get", _BOOKING): {"404": ("booking-not-found",)},
    ("post", _BOOKING + "/reschedule"): {
        "404": ("booking-not-found",),
        "409": ("booking-not-active", "slot-full"),
        "412": ("precondition-failed",),
        "422": ("slot-not-bookable", "no-bookings"),
    },
    ("post", _BOOKING + "/cancel"): {
        "404": ("booking-not-found",),
        "409": ("booking-not-active",),
        "412": ("precondition-failed",),
    },
    ("post", _BOOKING + "/check-in"): {
        "404": ("booking-not-found",),
        "409": ("booking-not-active",),
        "422": ("no-waiting-area",),
    },
    ("get", "/v1/slots"): {"404": ("unknown-gate",), "422": ("no-bookings", "invalid-range")},
}


def problem_types(method: str, path: str, status: str) -> tuple[str, ...]:
    """The slugs a firm operation's answer with `status` may carry (none: not a firm's)."""
    if not path.startswith(FIRM_PATHS):
        return ()
    return _ANY.get(status, ()) + _OWN.get((method, path), {}).get(status, ())


def document_problem_types(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (an OpenAPI document) with each firm operation's problem answers listing
    their types."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for status, answer in operation.get("responses", {}).items():
                slugs = problem_types(method, path, status)
                if not slugs or "application/problem+json" not in answer.get("content", {}):
                    continue
                answer["x-problem-types"] = [_PREFIX + slug for slug in slugs]
                listed = ", ".join(f"`{slug}`" for slug in slugs)
                answer["description"] = (
                    f"{answer.get('description', '')}; problem types ({_PREFIX}...): {listed}"
                )
    return schema
