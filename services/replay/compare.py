"""Comparing decisions: the exact check (every published decision, field for field) and the
per-truck diff a what-if is read by (lane, carrier slot, outcome, expected wait)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from lanes.plates import normalise_plate

Decision = Mapping[str, Any]
COMPARED = ("outcome", "lane_id", "carrier_slot", "wait_min")


def by_revision(decisions: Iterable[Decision]) -> dict[tuple[str, int], Decision]:
    return {(str(d["visit_id"]), int(d.get("revision", 0))): d for d in decisions}


def exact_differences(recorded: Iterable[Decision], replayed: Iterable[Decision]) -> list[str]:
    """Every way the two sets of decisions differ (a decision missing on one side, or any
    field of it), one line each; empty when the replay reproduced the record exactly."""
    left, right = by_revision(recorded), by_revision(replayed)
    out: list[str] = []
    for key in sorted(left.keys() | right.keys()):
        a, b = left.get(key), right.get(key)
        if a is None or b is None:
            out.append(
                f"visit {key[0]} revision {key[1]}: only {'replayed' if a is None else 'recorded'}"
            )
            continue
        fields = sorted(f for f in a.keys() | b.keys() if a.get(f) != b.get(f))
        if fields:
            out.append(f"visit {key[0]} revision {key[1]}: {', '.join(fields)} differ")
    return out


def latest(decisions: Iterable[Decision]) -> dict[str, Decision]:
    """Each visit's current decision (its highest revision)."""
    out: dict[str, Decision] = {}
    for d in decisions:
        seen = out.get(str(d["visit_id"]))
        if seen is None or int(d.get("revision", 0)) >= int(seen.get("revision", 0)):
            out[str(d["visit_id"])] = d
    return out


def first_seen(decisions: Iterable[Decision]) -> dict[str, datetime]:
    """Each visit's first decision time: when the truck was seen. A later revision is
    decided later, so a wait measured from it would differ between two runs that revise a
    truck at different times although its expected start is the same."""
    out: dict[str, datetime] = {}
    for d in decisions:
        visit, at = str(d["visit_id"]), _at(d["decided_at"])
        if visit not in out or at < out[visit]:
            out[visit] = at
    return out


def wait_min(decision: Decision, seen_at: datetime | None = None) -> float | None:
    """Expected wait in minutes: the truck seen (`seen_at`, its first decision; this
    decision's own time when not given) to the expected start of `decision`."""
    start = decision.get("expected_start_at")
    if not start:
        return None
    since = seen_at if seen_at is not None else _at(decision["decided_at"])
    return (_at(start) - since).total_seconds() / 60  # exact: compared


def truck(decision: Decision, seen_at: datetime | None = None) -> dict[str, Any]:
    return {
        "outcome": decision.get("outcome"),
        "lane_id": decision.get("lane_id"),
        "carrier_slot": decision.get("carrier_slot"),
        "wait_min": wait_min(decision, seen_at),
        "reason": decision.get("reason"),
    }


def truck_diff(recorded: Iterable[Decision], replayed: Iterable[Decision]) -> list[dict[str, Any]]:
    """Per truck (visit), where the current decisions differ in outcome, lane, carrier slot
    or expected wait (seen to expected start, so the same start at a later revision is
    no difference); in the order the trucks were seen."""
    recorded, replayed = list(recorded), list(replayed)
    left, right = latest(recorded), latest(replayed)
    seen_left, seen_right = first_seen(recorded), first_seen(replayed)
    rows: list[dict[str, Any]] = []
    for visit_id in left.keys() | right.keys():
        a, b = left.get(visit_id), right.get(visit_id)
        before = truck(a, seen_left[visit_id]) if a is not None else None
        after = truck(b, seen_right[visit_id]) if b is not None else None
        changed = (
            ["decision"]
            if before is None or after is None
            else [f for f in COMPARED if before[f] != after[f]]
        )
        if not changed:
            continue
        some = a if a is not None else b
        assert some is not None
        rows.append(
            {
                "visit_id": visit_id,
                "plate": some.get("plate"),
                "manifest_id": some.get("manifest_id"),
                "seen_at": some.get("decided_at"),
                "changed": changed,
                "recorded": before,
                "replayed": after,
            }
        )
    return sorted(rows, key=lambda r: (str(r["seen_at"]), r["visit_id"]))


def _at(raw: Any) -> datetime:
    return raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))


def ordered(decisions: Sequence[Decision]) -> list[Decision]:
    """A stable order for files: by time decided, visit, revision."""
    return sorted(
        decisions,
        key=lambda d: (str(d["decided_at"]), str(d["visit_id"]), int(d.get("revision", 0))),
    )


def without_manifest_known_now(
    decisions: Iterable[Decision], tractor_plates: Iterable[str]
) -> list[str]:
    """The visits whose current decision names no manifest although a manifest for their
    plate is stored now (`tractor_plates`, normalised): it came after the decision (e.g. an
    archive into which the manifests were imported later). A replay reproduces what was
    known then, so these stay undecided; this says how many."""
    known = set(tractor_plates)
    return sorted(
        visit
        for visit, d in latest(decisions).items()
        if d.get("manifest_id") is None and normalise_plate(str(d.get("plate", ""))) in known
    )
