"""What a caller gives call after call, told apart by identity (`lanes.alerts.incremental`):
which items left and which came since the last call.

A window that slides gives, most calls, the last call's items less a few at the front and
plus a few at the end (the replay's memory adapter does: its window is a dict in the order
the reads came in). That case is found by comparing identities in C (`operator.is_`),
without building a dict and two set differences of the whole window on every call (issue
26: a third of the alert rules' cost in a replay of small batches). Any other change is
worked out in full, as before."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")

# how far into the last call's items the new first item is looked for (the items that
# left at the front); beyond it, the change is worked out in full
_FRONT = 256


class Given(Generic[T]):
    """The items given last (`move`), those up to `now` kept (`kept`, by id())."""

    def __init__(self, at: Callable[[T], datetime]) -> None:
        self._at = at
        self.kept: dict[int, T] = {}
        self._waiting: dict[int, T] = {}  # given, but after the last `now`
        self._ids: set[int] = set()  # of every item given last
        self._last: tuple[T, ...] | None = None  # the items given last, when none twice

    def move(self, items: Sequence[T], now: datetime) -> tuple[list[T], list[T]]:
        """Makes `kept` the `items` up to `now`; returns what left and what came. `now`
        does not go back between calls (the caller starts over when it does), so an item
        kept stays up to `now`."""
        given = tuple(items)
        moved = self._slid(given, now)
        if moved is None:
            moved = self._full(given, now)
        return moved

    def _slid(self, given: tuple[T, ...], now: datetime) -> tuple[list[T], list[T]] | None:
        """The change when `given` is the last items less some at the front, plus some at
        the end, all told apart by identity; None when it is not."""
        last = self._last
        if last is None:
            return None
        front = 0
        if last and given:
            first = given[0]
            while front < len(last) and last[front] is not first:
                front += 1
                if front > _FRONT:
                    return None
        else:
            front = len(last)
        stay = len(last) - front
        if stay > len(given) or not all(map(operator.is_, last[front:], given)):
            return None
        left, tail = last[:front], given[stay:]
        tail_ids = [id(item) for item in tail]
        if len(set(tail_ids)) != len(tail_ids) or not self._ids.isdisjoint(tail_ids):
            return None  # an item given twice, or one given again: worked out in full
        kept, waiting = self.kept, self._waiting
        gone = []
        for item in left:
            key = id(item)
            self._ids.discard(key)
            waiting.pop(key, None)
            if key in kept:
                gone.append(kept.pop(key))
        self._ids.update(tail_ids)
        came = []
        for key, item in [*waiting.items(), *zip(tail_ids, tail, strict=True)]:
            if self._at(item) <= now:
                came.append(item)
                kept[key] = item
                waiting.pop(key, None)
            else:
                waiting[key] = item
        self._last = given
        return gone, came

    def _full(self, given: tuple[T, ...], now: datetime) -> tuple[list[T], list[T]]:
        kept = self.kept
        by_id = dict(zip(map(id, given), given, strict=True))
        gone = [kept.pop(k) for k in kept.keys() - by_id.keys()]
        came = [item for k in by_id.keys() - kept.keys() if self._at(item := by_id[k]) <= now]
        kept.update(zip(map(id, came), came, strict=True))
        self._ids = set(by_id)
        self._waiting = {k: by_id[k] for k in by_id.keys() - kept.keys()}
        self._last = given if len(by_id) == len(given) else None
        return gone, came
