"""`borderflow up` prints the decider's totals when it stops (found by an analyst's try,
2026-12-06: the last progress line of a run stopped with Ctrl-C read trucks 845, assigned
716, review 123, but the decider went on through the batch it held while stopping; the
replay of the run, rightly, counted 979, 826 and 153, and nothing the run printed showed
those figures)."""

from __future__ import annotations

from collections import Counter

from services.cli.supervisor import final_tally
from services.workers.decider import DeciderStats


def test_the_totals_at_stop_are_the_ones_a_replay_compares_with() -> None:
    stats = DeciderStats(
        reads=4580,
        visits=981,
        decisions=Counter(assigned=826, needs_review=153),
        published=979,
    )
    assert final_tally(stats, dead_letters=2) == (
        "at stop: reads 4580  trucks 981  assigned 826  review 153  refused 0  published 979  "
        "dead-letters 2; decided 979: the trucks a replay of this run counts (those arriving "
        "but not decided, e.g. waiting in a waiting area for their call, are not)"
    )
