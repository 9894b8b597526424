"""One way from a record's bytes to a JSON object, for every topic and file that takes JSON
(plate reads, booking events, camera frames, manifests, call events, the exchange's
payloads): the same refusal for the same fault whichever topic it came on, naming the
byte, the line and column, or the JSON kind a producer can fix. Until 2026-12-06 five
decoders did this each their own way: a leading UTF-8 byte-order mark was taken on the
manifests topic and refused on the plate reads, an empty record was "empty record" on one
topic and "empty message (no value)" on another, and a JSON array was "a list" here and "an
array" there."""

from __future__ import annotations

import json
from typing import Any

from streams.errors import InvalidEvent
from streams.text import unstorable_text


def load_object(raw: bytes | str | None, *, what: str, where: str = "") -> dict[str, Any]:
    """`raw` as a JSON object with only storable text, or InvalidEvent saying why not.

    `what` names the thing in the refusal ("a plate read"), `where` prefixes it (a file's
    `path:line: `, a peer's `payload: `). UTF-8 only (a leading byte-order mark allowed,
    as Windows tools write it): `json.loads` would take UTF-16 or UTF-32 bytes by their
    first bytes and refuse others with that codec's words. A lone surrogate written raw
    (CESU-8, a careless exporter) is decoded so that the check of unstorable text names
    the field that holds it."""
    if raw is None:
        raise InvalidEvent(f"{where}empty message value (tombstone): {what} needs a JSON body")
    if not raw:
        raise InvalidEvent(f"{where}empty message value: {what} needs a JSON body")
    lenient = False
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            try:
                text, lenient = raw.decode("utf-8-sig", "surrogatepass"), True
            except UnicodeDecodeError:
                raise InvalidEvent(
                    f"{where}value is not UTF-8 text (byte {exc.start}: "
                    f"{raw[exc.start : exc.start + 1]!r}): send {what} as UTF-8 JSON"
                ) from exc
    else:
        text = raw.removeprefix("\ufeff")
    try:
        obj = json.loads(text, object_pairs_hook=_members_once)
    except _RepeatedMember as exc:
        raise InvalidEvent(
            f"{where}member {exc.name!r} given more than once in one object: send each "
            "member once (a consumer keeping the first value and one keeping the last would "
            f"read two different {what.removeprefix('a ').removeprefix('an ')}s)"
        ) from exc
    except json.JSONDecodeError as exc:
        raise InvalidEvent(
            f"{where}invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:  # the parser's own limit: a hostile or broken producer
        raise InvalidEvent(f"{where}invalid JSON: nested too deeply") from exc
    if not isinstance(obj, dict):
        raise InvalidEvent(f"{where}expected a JSON object, got {json_kind(obj)}")
    if obj.keys() == {"schema", "payload"}:
        # Kafka Connect's JsonConverter, schemas.enable=true (its default): said so, where
        # it was a list of every field missing (or nothing of schema and payload at all)
        raise InvalidEvent(
            f"{where}a Kafka Connect JSON envelope (schema and payload), not {what}: send "
            "the event itself (value.converter.schemas.enable=false)"
        )
    # NUL and lone surrogates reach a decoded string only through a \u escape (the parser
    # refuses raw control characters) or the lenient decoding above: without either there
    # is nothing to look for (the plate reads' hot path)
    if (lenient or "\\u" in text) and (bad := unstorable_text(obj)) is not None:
        raise InvalidEvent(f"{where}{bad}")
    return obj


class _RepeatedMember(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _members_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object from its members, refusing a member given twice (`json.loads` keeps the
    last silently; the HTTP API refuses it too, `services.api.strict`). Until 2026-12-06 a
    plate read with two `event_id`s was taken under the last one."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _RepeatedMember(name)
            seen.add(name)
    return obj


def json_kind(value: object) -> str:
    """What JSON calls the value's type (the producer's word, not Python's)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    return "an array"
