"""A record's key checked against the field it is documented to be, on a topic whose
records are applied in order (a manifest's versions, a gate's lane events): only the key
puts them on one partition, so a record keyed otherwise or not at all (Kafka Connect's
default without a key transform, a system keying by firm or by lane, a script's bare
`send(topic, value)`) may be applied out of order against the same thing's other records.

Such a record is still taken (a key is the producer's choice of partitioning, and a keyless
producer on a one-partition topic, or one keying by firm, keeps the order as well), counted
(`borderflow_events_miskeyed`) and told in the log, at most once a minute a topic, with
the producer's fix. From 02:06 to 02:45 UTC on 2026-12-06 such records were dead-lettered:
every bare client's manifest and lane event was refused for its key alone."""

from __future__ import annotations

import logging
import time

from streams.metrics import EVENTS_MISKEYED

log = logging.getLogger(__name__)
WARN_EVERY_S = 60.0  # the log's pace, per topic (the metric counts every record)
_warned: dict[str, float] = {}


def key_mismatch(
    key: bytes | None, *, record: str, field: str, wanted: str, keeps: str
) -> str | None:
    """Why a record's key is not `wanted` (the value of its `field`), or None. `record`
    names the record ("manifest's record"), `keeps` what the key keeps in order ("a
    manifest's versions"), for the producer's fix."""
    fix = (
        f"key each {record} by its {field} ({wanted!r}), so that {keeps} stay in order on "
        "one partition"
    )
    if key is None:
        return f"key: the record has none; {fix}"
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        return f"key: not UTF-8 text ({key[:64]!r}); {fix}"
    if text != wanted:
        return f"key: {text[:128]!r} is not the {field}; {fix}"
    return None


def note_mismatch(topic: str, group: str, reason: str) -> None:
    """Count a record taken with the wrong key, and say so in the log now and then (the
    wall clock paces an operator's log, never a decision)."""
    EVENTS_MISKEYED.labels(topic, group).inc()
    now = time.monotonic()
    if now - _warned.get(topic, -WARN_EVERY_S) >= WARN_EVERY_S:
        _warned[topic] = now
        log.warning(
            "%s: record taken, but %s (counted in borderflow_events_miskeyed)", topic, reason
        )
