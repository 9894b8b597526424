"""Deterministic identifiers: the same inputs give the same id, so a replay is byte-identical."""

from __future__ import annotations

import uuid

# Fixed for ever: changing it would change every visit and decision id of a replay.
BORDERFLOW_NAMESPACE = uuid.UUID("6f1c3a52-8d4e-5b7a-9c21-4e0d8b7f3a10")

_SEPARATOR = "\x1f"  # unit separator: no id part contains it, so parts never run together


def stable_id(prefix: str, *parts: str) -> str:
    """`<prefix>-<uuid5>` of the parts under the borderflow namespace."""
    name = _SEPARATOR.join((prefix, *parts))
    return f"{prefix}-{uuid.uuid5(BORDERFLOW_NAMESPACE, name)}"
