"""The control room's snapshot differences: applying a diff gives the new snapshot exactly,
for any pair of snapshots, and the common changes are small."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.control.patch import apply, diff

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(-2, 2), st.text("ab$", max_size=3)
)
ids = st.sampled_from([f"v-{n}" for n in range(8)])


def items(field: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    item = st.fixed_dictionaries(
        {field: ids}, optional={"plate": scalars, "more": scalars, "$v": scalars}
    )
    return st.lists(item, max_size=8, unique_by=lambda d: d[field])


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text("abk$", max_size=3), inner, max_size=4),
        items("visit_id"),
        items("lane_id"),
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(values, values)
def test_apply_of_diff_is_the_new_value(old: Any, new: Any) -> None:
    before = copy.deepcopy(old)
    patch = diff(old, new)
    wire = json.loads(json.dumps(patch))  # what the page receives
    assert apply(old, wire) == new
    assert old == before  # the old snapshot is not changed
    if old == new and type(old) is type(new):
        assert patch is None


def truck(n: int, **extra: Any) -> dict[str, Any]:
    return {"visit_id": f"v-{n}", "plate": f"29H{n:05d}", "lane_id": "HN-E3", **extra}


def snapshot(queue: list[dict[str, Any]], more: int, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "lanes": [
            {"lane_id": "HN-E1", "trucks": [], "more": 0},
            {"lane_id": "HN-E3", "trucks": queue, "more": more},
        ],
        "recent": [{"decision_id": f"d-{n}", "visit_id": "v-1"} for n in range(seq, 0, -1)],
    }


def test_a_truck_joining_a_queue_sends_that_truck_only() -> None:
    old = snapshot([truck(n) for n in range(20)], 0, 3)
    new = snapshot([truck(n) for n in range(21)], 0, 4)
    patch = diff(old, new)
    assert patch == {
        "$d": {
            "seq": {"$v": 4},
            "lanes": {
                "$k": "lane_id",
                "$ids": [[0, 2]],
                "$d": {
                    "HN-E3": {
                        "$d": {
                            "trucks": {
                                "$k": "visit_id",
                                "$ids": [[0, 20], "v-20"],
                                "$d": {"v-20": {"$v": truck(20)}},
                            }
                        }
                    }
                },
            },
            # decisions of one visit share its id: the list is keyed by decision
            "recent": {
                "$k": "decision_id",
                "$ids": ["d-4", [0, 3]],
                "$d": {"d-4": {"$v": {"decision_id": "d-4", "visit_id": "v-1"}}},
            },
        }
    }
    assert apply(old, patch) == new


def test_a_long_queue_growing_beyond_what_is_shown_sends_the_count() -> None:
    old = snapshot([truck(n) for n in range(20)], 41, 7)
    new = snapshot([truck(n) for n in range(20)], 42, 7)
    assert diff(old, new) == {
        "$d": {
            "lanes": {
                "$k": "lane_id",
                "$ids": [[0, 2]],
                "$d": {"HN-E3": {"$d": {"more": {"$v": 42}}}},
            }
        }
    }


def test_reordered_and_removed_trucks_and_changed_fields() -> None:
    old = {"trucks": [truck(1), truck(2), truck(3)], "gone": 1}
    new = {"trucks": [truck(3), truck(1, lane_id="HN-E4")], "added": [1, 2]}
    patch = diff(old, new)
    assert patch is not None
    assert patch["$del"] == ["gone"]
    assert patch["$d"]["trucks"]["$ids"] == [[2, 3], [0, 1]]
    assert patch["$d"]["trucks"]["$d"] == {"v-1": {"$d": {"lane_id": {"$v": "HN-E4"}}}}
    assert apply(old, patch) == new


def test_lists_without_a_unique_id_are_sent_whole() -> None:
    old = {"recent": [{"visit_id": "v-1"}, {"visit_id": "v-1"}]}
    new = {"recent": [{"visit_id": "v-2"}, {"visit_id": "v-1"}, {"visit_id": "v-1"}]}
    assert diff(old, new) == {"$d": {"recent": {"$v": new["recent"]}}}
