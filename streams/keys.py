"""A record's key checked against the field it is documented to be: on a topic whose
records must be applied in order (a manifest's versions, a gate's lane events), only the key
puts them on one partition, so a record keyed otherwise or not at all (Kafka Connect's
default without a key transform, a system keying by firm or by lane) could be applied out
of order, in silence. Such a record is refused with `key: ...` (a dead letter)."""

from __future__ import annotations


def key_refusal(
    key: bytes | None, *, record: str, field: str, wanted: str, keeps: str
) -> str | None:
    """The reason to refuse a record whose key is not `wanted` (the value of its `field`),
    or None. `record` names the record ("manifest's record"), `keeps` what the key keeps
    in order ("a manifest's versions"), for the producer's fix."""
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
