"""An archived record and how it is read off a Kafka record: its event id and event time
come from the payload (borderflow's envelope or a bare event), never from the wall clock."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord

from streams.timestamps import in_range

# the payload fields that carry an event's time, most specific first
TIME_FIELDS = ("captured_at", "at", "decided_at", "occurred_at", "failed_at")
ID_FIELDS = ("event_id", "read_id", "decision_id", "booking_event_id")


@dataclass(frozen=True, slots=True)
class ArchivedRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    # a header's value as sent: null (None) stays null (it was archived as b"" until
    # 2026-12-06, and a redrive sent an empty value where the producer had sent none)
    headers: tuple[tuple[str, bytes | None], ...]
    event_id: str | None
    event_time: datetime

    def json_headers(self) -> list[list[str | None]]:
        return [[k, None if v is None else base64.b64encode(v).decode()] for k, v in self.headers]

    def payload(self) -> dict[str, Any] | None:
        """The value as a JSON object (the envelope's `data` when enveloped), else None."""
        obj = _json_object(self.value)
        if obj is not None and isinstance(obj.get("data"), dict) and "type" in obj:
            return dict(obj["data"])
        return obj


def headers_from_json(raw: list[Any]) -> tuple[tuple[str, bytes | None], ...]:
    return tuple((str(k), None if v is None else base64.b64decode(v)) for k, v in raw)


def from_kafka(record: ConsumerRecord) -> ArchivedRecord:
    """Any record, bytes that are not JSON included: the archive keeps everything."""
    headers = tuple((k, None if v is None else bytes(v)) for k, v in (record.headers or ()))
    event_id, event_time = identify(record.value)
    fallback = _broker_time(record.timestamp)
    return ArchivedRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=int(record.timestamp),
        key=record.key,
        value=record.value,
        headers=headers,
        event_id=event_id,
        event_time=event_time or fallback,
    )


def _broker_time(ms: int) -> datetime:
    """The record's own timestamp; one past year 9999 (a producer sending micro- or
    nanoseconds as milliseconds) is archived as a record without one (-1 ms)."""
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(-1 / 1000, tz=UTC)


def identify(value: bytes | None) -> tuple[str | None, datetime | None]:
    """The event id and event time a payload carries (envelope first, then its data)."""
    obj = _json_object(value)
    if obj is None:
        return None, None
    data = obj.get("data") if isinstance(obj.get("data"), dict) else None
    layers = [d for d in (data, obj) if d is not None]
    event_id = next(
        (str(d[f]) for f in ID_FIELDS for d in (obj, *layers) if isinstance(d.get(f), str)), None
    )
    for layer in layers:
        for name in TIME_FIELDS:
            at = _time(layer.get(name))
            if at is not None:
                return event_id, at
    return event_id, None


def _json_object(value: bytes | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        obj = json.loads(value)
    except (UnicodeDecodeError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        at = datetime.fromisoformat(raw)
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 at +07:00 has no UTC: the broker's time
        return None
    try:
        in_range(at)
    except ValueError:
        return None  # a broken clock: archived at the broker's time, as a record without one
    return at
