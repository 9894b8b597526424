"""Logging set-up: plain text for a terminal, JSON lines for production."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from services.api.middleware import RequestIdFilter

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        body.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
