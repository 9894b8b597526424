"""Rules on booking behaviour: a firm's no-show rate, a booking cancelled and rebooked into
an earlier slot, many bookings from one key in a burst."""

from __future__ import annotations

from collections.abc import Sequence

from lanes.alert_rules import AlertRules
from lanes.alerts.model import Alert, BookingChange, BookingKind, make_alert
from lanes.alerts.wording import gate_time, zone

SETTLED = frozenset({BookingKind.USED, BookingKind.NO_SHOW, BookingKind.LOST_LATE})


def _ordered(changes: Sequence[BookingChange]) -> list[BookingChange]:
    """In event time; changes of one time by booking: the decider marks a batch's no-shows
    at one time (the gate's clock) under event ids of their own (uuid4), which its replay
    does not give again, so the ids only settle what the booking leaves open."""
    return sorted(changes, key=lambda c: (c.at, c.booking_id, c.event_id))


def no_show_rates(changes: Sequence[BookingChange], rules: AlertRules) -> list[Alert]:
    """A firm whose settled bookings (used, no-show, lost late) number at least
    `no_show_min_bookings` and of which at least `no_show_rate` were no-shows; raised at the
    settlement that took it over."""
    settled: dict[str, list[BookingChange]] = {}
    no_shows: dict[str, int] = {}  # of the firm's settled so far (counted, not re-listed)
    alerts = []
    flagged: set[str] = set()
    for c in _ordered(changes):
        if c.kind not in SETTLED or c.firm_id in flagged:
            continue
        seen = settled.setdefault(c.firm_id, [])
        seen.append(c)
        n = no_shows[c.firm_id] = no_shows.get(c.firm_id, 0) + (c.kind is BookingKind.NO_SHOW)
        if len(seen) < rules.no_show_min_bookings or n < rules.no_show_rate * len(seen):
            continue
        missed = [s for s in seen if s.kind is BookingKind.NO_SHOW]
        flagged.add(c.firm_id)
        alerts.append(
            make_alert(
                "no_show_rate",
                f"firm:{c.firm_id}",
                gate_id=c.gate_id,
                raised_at=c.at,
                explanation=(
                    f"firm {c.firm_id}: {len(missed)} of its {len(seen)} settled bookings were "
                    f"no-shows ({len(missed) / len(seen):.0%}; the rule flags "
                    f"{rules.no_show_rate:.0%} from {rules.no_show_min_bookings} bookings)"
                ),
                evidence=tuple(s.booking_id for s in missed),
            )
        )
    return alerts


def rebook_jumps(changes: Sequence[BookingChange], rules: AlertRules) -> list[Alert]:
    """A booking cancelled and the same manifest booked by the same firm into an earlier
    slot within `rebook_window`: a way to jump the queue."""
    cancelled: list[BookingChange] = []
    alerts = []
    for c in _ordered(changes):
        if c.kind is BookingKind.CANCELLED:
            cancelled.append(c)
            continue
        if c.kind is not BookingKind.CREATED:
            continue
        for old in reversed(cancelled):
            if c.at - old.at > rules.rebook_window:
                break
            if (old.firm_id, old.manifest_id) != (c.firm_id, c.manifest_id):
                continue
            if c.slot_start >= old.slot_start:
                continue
            ahead = (old.slot_start - c.slot_start).total_seconds() / 60
            alerts.append(
                make_alert(
                    "rebook_jump",
                    f"manifest:{c.manifest_id}",
                    gate_id=c.gate_id,
                    raised_at=c.at,
                    explanation=(
                        f"firm {c.firm_id} cancelled booking {old.booking_id} "
                        f"(slot {gate_time(old.slot_start, day_of=c.at, rules=rules)}) and "
                        f"booked {c.booking_id} {ahead:.0f} min earlier (slot "
                        f"{gate_time(c.slot_start, day_of=c.at, rules=rules)}, {zone(rules)}) "
                        f"{(c.at - old.at).total_seconds():.0f} s later, for manifest "
                        f"{c.manifest_id}"
                    ),
                    evidence=(old.event_id, c.event_id),
                )
            )
            break
    return alerts


def bursts(changes: Sequence[BookingChange], rules: AlertRules) -> list[Alert]:
    """`burst_count` bookings or more created by one key within `burst_window`."""
    recent: dict[str, list[BookingChange]] = {}
    alerts = []
    flagged: set[str] = set()
    for c in _ordered(changes):
        if c.kind is not BookingKind.CREATED or c.key_id is None or c.key_id in flagged:
            continue
        window = [r for r in recent.get(c.key_id, []) if c.at - r.at <= rules.burst_window]
        window.append(c)
        recent[c.key_id] = window
        if len(window) < rules.burst_count:
            continue
        flagged.add(c.key_id)
        span = (window[-1].at - window[0].at).total_seconds()
        alerts.append(
            make_alert(
                "booking_burst",
                f"key:{c.key_id}",
                gate_id=c.gate_id,
                raised_at=c.at,
                explanation=(
                    f"key {c.key_id} (firm {c.firm_id}) created {len(window)} bookings in "
                    f"{span:.0f} s (the rule flags {rules.burst_count} within "
                    f"{rules.burst_window.total_seconds():.0f} s)"
                ),
                evidence=tuple(r.booking_id for r in window),
            )
        )
    return alerts
