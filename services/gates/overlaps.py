"""Hours written twice, refused when a gate file is loaded: a list of windows (a lane group's
`hours`, the fleet's, a carrier's `charging`, the booking `hours` and an override's) in
which a minute of the day is in two windows, an identical window listed twice among them.

The domain takes such a list as the union (`lanes.model.DailyHours`: open when any window
holds the time), so `["06:00-14:00", "12:00-20:00"]` read as 06:00-20:00 without a word;
an operator who meant `14:00-20:00` (a typo) would not have been told. The loader refuses
what it cannot tell was meant (an id, a cargo class or a channel listed twice; an empty
window), so it refuses this too, naming both windows, the minutes in both, and the one
window that writes the union. Windows that only touch (`06:00-12:00`, `12:00-18:00`) share
no minute and load: that is how a day is written in parts. A window past midnight
(`22:00-06:00`) overlaps the next morning's (`05:00-08:00`) from 05:00 to 06:00."""

from __future__ import annotations

from collections.abc import Sequence

from services.gates.schema import CapacityOverrideConfig, GateConfig, Problem, window_of

_DAY_MIN = 24 * 60


def _minutes(window: str) -> set[int]:
    """The minutes of the day (0-1439, local) the window holds."""
    start, end = window_of(window)
    first, last = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    if last <= first:  # past midnight, or "00:00-24:00"
        last += _DAY_MIN
    return {m % _DAY_MIN for m in range(first, last)}


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _runs(minutes: set[int]) -> list[tuple[int, int]]:
    """`minutes` as stretches [first, end) round the clock (an end may pass 1440), each
    starting at a minute whose previous minute is not in the set; [(0, 1440)] for all."""
    if len(minutes) == _DAY_MIN:
        return [(0, _DAY_MIN)]
    runs = []
    for first in sorted(m for m in minutes if (m - 1) % _DAY_MIN not in minutes):
        end = first
        while end % _DAY_MIN in minutes:
            end += 1
        runs.append((first, end))
    return runs


def _window(run: tuple[int, int]) -> str:
    first, end = run
    if end - first == _DAY_MIN:
        return "00:00-24:00"
    return f"{_clock(first)}-{'24:00' if end == _DAY_MIN else _clock(end % _DAY_MIN)}"


def _said(run: tuple[int, int]) -> str:
    first, end = run
    if end - first == _DAY_MIN:
        return "the whole day"
    return f"{_clock(first)} to {'24:00' if end == _DAY_MIN else _clock(end % _DAY_MIN)}"


def window_problems(where: str, windows: Sequence[str]) -> list[Problem]:
    """Each window of the list at `where` (a dotted path, e.g. `lanes[0].hours`) that repeats
    or overlaps one before it, as (`where[i]`, reason)."""
    problems: list[Problem] = []
    held = [_minutes(w) for w in windows]
    for j, window in enumerate(windows):
        for i in range(j):
            shared = held[i] & held[j]
            if not shared:
                continue
            if window == windows[i]:
                reason = f"{window!r} is listed twice (first at {where}[{i}]): list it once"
            else:
                runs = _runs(shared)
                both = " and ".join(_said(run) for run in runs)
                union = ", ".join(repr(_window(run)) for run in _runs(held[i] | held[j]))
                reason = (
                    f"{window!r} overlaps {windows[i]!r} ({where}[{i}]): {both} "
                    f"{'is' if len(runs) == 1 else 'are'} in both; each minute belongs in one "
                    f"window: write {union} if that is what was meant"
                )
            problems.append((f"{where}[{j}]", reason))
            break  # one fault a window: the first window it runs into
    return problems


def overlap_problems(config: GateConfig) -> list[Problem]:
    """Every list of hours in the file whose windows repeat or overlap (`window_problems`)."""
    lists: list[tuple[str, Sequence[str]]] = [
        (f"lanes[{i}].hours", g.hours) for i, g in enumerate(config.lanes) if g.hours is not None
    ]
    if config.fleet is not None:
        if config.fleet.hours is not None:
            lists.append(("fleet.hours", config.fleet.hours))
        lists += [
            (f"fleet.carriers[{i}].charging", c.charging)
            for i, c in enumerate(config.fleet.carriers)
        ]
    if config.booking is not None:
        lists.append(("booking.hours", config.booking.hours))
        lists += [
            (f"booking.overrides[{i}].hours", o.hours)
            for i, o in enumerate(config.booking.overrides)
        ]
    problems = [p for where, windows in lists for p in window_problems(where, windows)]
    if config.booking is not None:
        problems += _override_problems(config.booking.overrides)
    return problems


def _override_problems(overrides: Sequence[CapacityOverrideConfig]) -> list[Problem]:
    """Two capacity overrides giving one direction a capacity at the same hours: the domain
    takes the first (`lanes.bookings.capacity`), so the second's figure would be ignored."""
    problems: list[Problem] = []
    held = [set().union(*(_minutes(w) for w in o.hours)) for o in overrides]
    for j, later in enumerate(overrides):
        for i in range(j):
            shared = held[i] & held[j]
            both = [
                name
                for name, a, b in (
                    ("export", overrides[i].capacity.export, later.capacity.export),
                    ("import", overrides[i].capacity.import_, later.capacity.import_),
                )
                if a is not None and b is not None
            ]
            if shared and both:
                when = " and ".join(_said(run) for run in _runs(shared))
                reason = (
                    f"gives {' and '.join(both)} a capacity at hours booking.overrides[{i}] "
                    f"gives one too ({when}): the first would hold and this one be ignored; "
                    "give each hour one override"
                )
                problems.append((f"booking.overrides[{j}].hours", reason))
                break
    return problems
