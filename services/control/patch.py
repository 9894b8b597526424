"""Differences between two snapshots of the control room, so that a live page is sent what
changed rather than the whole gate on every push.

A patch is JSON and says, for one value, one of:

- `{"$v": value}`: the new value, whole;
- `{"$d": {key: patch, ...}, "$del": [key, ...]}`: an object whose listed keys changed
  (each with its own patch; a new key's patch is `{"$v": ...}`) or went;
- `{"$k": field, "$ids": runs, "$d": {id: patch, ...}}`: a list of objects identified by
  `field` (`visit_id`, `lane_id`...): the new order of ids, as runs that are either an id or
  `[start, stop]`, a slice of the old list's ids (a truck joining a queue of twenty is then
  `[[0, 20], "new-id"]`), and the patches of the items that are new or changed.

`diff(old, new)` is None when nothing changed; `apply(old, diff(old, new)) == new` always (the
page's `applyPatch` in `control.js` is the same procedure). Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

# the fields that identify a list's items, tried in this order: the first one every item of
# both lists has, unique within each list, keys the list
ID_FIELDS = ("decision_id", "visit_id", "lane_id", "carrier_id")


def diff(old: Any, new: Any) -> dict[str, Any] | None:
    """The patch from `old` to `new`, or None if they are equal."""
    if type(old) is type(new) and old == new:
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        changed = {}
        for key, value in new.items():
            if key not in old:
                changed[key] = {"$v": value}
            elif (part := diff(old[key], value)) is not None:
                changed[key] = part
        gone = [key for key in old if key not in new]
        patch: dict[str, Any] = {"$d": changed}
        if gone:
            patch["$del"] = gone
        return patch
    if isinstance(old, list) and isinstance(new, list):
        field = _id_field(old, new)
        if field is not None:
            return _list_diff(old, new, field)
    return {"$v": new}


def apply(old: Any, patch: dict[str, Any] | None) -> Any:
    """`old` with `patch` applied (a new value; `old` is not changed)."""
    if patch is None:
        return old
    if "$v" in patch:
        return patch["$v"]
    if "$k" in patch:
        field = patch["$k"]
        ids = [item[field] for item in old]
        by_id = dict(zip(ids, old, strict=True))
        changes = patch["$d"]
        out = []
        for run in patch["$ids"]:
            for item_id in ids[run[0] : run[1]] if isinstance(run, list) else (run,):
                item = by_id.get(item_id)
                out.append(apply(item, changes[item_id]) if item_id in changes else item)
        return out
    result = dict(old)
    for key, part in patch["$d"].items():
        result[key] = apply(result.get(key), part)
    for key in patch.get("$del", ()):
        result.pop(key, None)
    return result


def _id_field(old: list[Any], new: list[Any]) -> str | None:
    items = old + new
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for field in ID_FIELDS:
        if not all(field in item and isinstance(item[field], str) for item in items):
            continue
        if len({item[field] for item in old}) == len(old) and len(
            {item[field] for item in new}
        ) == len(new):
            return field
    return None


def _list_diff(old: list[dict[str, Any]], new: list[dict[str, Any]], field: str) -> dict[str, Any]:
    old_ids = [item[field] for item in old]
    position = {item_id: i for i, item_id in enumerate(old_ids)}
    by_id = dict(zip(old_ids, old, strict=True))
    runs: list[str | list[int]] = []
    changes: dict[str, Any] = {}
    for item in new:
        item_id = item[field]
        at = position.get(item_id)
        if at is None:
            runs.append(item_id)
            changes[item_id] = {"$v": item}
            continue
        last = runs[-1] if runs else None
        if isinstance(last, list) and last[1] == at:
            last[1] = at + 1
        else:
            runs.append([at, at + 1])
        if (part := diff(by_id[item_id], item)) is not None:
            changes[item_id] = part
    return {"$k": field, "$ids": runs, "$d": changes}
