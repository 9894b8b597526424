"""What a log line about one consumed record carries (its `extra`)."""

from __future__ import annotations

import json
from typing import Any


def event_log_fields(record: Any, *, group_id: str) -> dict[str, Any]:
    """A consumed record's coordinates and, when its JSON carries one (bare or enveloped),
    its `event_id` (or `read_id`): the `extra` of a log line about that record."""
    fields: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "group": group_id,
        "event_id": None,
    }
    try:
        obj = json.loads(record.value) if record.value else None
    except (ValueError, UnicodeDecodeError):
        return fields
    for source in (obj, obj.get("data") if isinstance(obj, dict) else None):
        if isinstance(source, dict):
            found = source.get("event_id") or source.get("read_id")
            if isinstance(found, str):
                fields["event_id"] = found
                break
    return fields
