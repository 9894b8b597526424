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
        # the refusal's path: walked again, as it was sent (the parse stopped at the
        # innermost object first, and knows neither the path nor the count)
        name, count = repeated_member(text) or (exc.name, 2)
        raise InvalidEvent(
            f"{where}member {name!r} given {count} times in one object: send each "
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
    last silently). Until 2026-12-06 a plate read with two `event_id`s was taken under the
    last one. The fast check, while parsing; `repeated_member` names the member."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _RepeatedMember(name)
            seen.add(name)
    return obj


class _Members(list[tuple[str, Any]]):
    """A JSON object's members as sent, every one kept (json.loads' `object_pairs_hook`)."""


def _first_repeat(value: Any, path: str) -> tuple[str, int] | None:
    if isinstance(value, _Members):
        counts: dict[str, int] = {}
        for name, _ in value:
            counts[name] = counts.get(name, 0) + 1
        for name, count in counts.items():
            if count > 1:
                return (f"{path}.{name}" if path else name), count
        items = [(f"{path}.{name}" if path else name, member) for name, member in value]
    elif isinstance(value, list):
        items = [
            (f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value)
        ]
    else:
        return None
    for where, item in items:
        if (found := _first_repeat(item, where)) is not None:
            return found
    return None


def repeated_member(raw: bytes | str) -> tuple[str, int] | None:
    """The first member of `raw` (JSON) given more than once in one object, as a dotted path
    (`cargo.description`, a list's item by its index, as the refusals name fields), with
    how many times; None when there is none, or when `raw` is not JSON or is nested too
    deep to walk. The one check of a repeated member: the Kafka topics (`load_object`) and
    the HTTP API (`services.api.strict`) name it in the same words."""
    try:
        return _first_repeat(json.loads(raw, object_pairs_hook=_Members), "")
    except (ValueError, RecursionError):
        return None


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
