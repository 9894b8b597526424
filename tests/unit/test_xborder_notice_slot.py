"""The slot a notice of the other side books at this side's gate (docs/exchange.md, the
notice as a prior): it must be one of that gate's slots. A notice naming a 30-minute slot
at Huu Nghi, whose slots are 60 minutes, was booked as Huu Nghi's 60-minute slot from its
start, in silence (found by a stranger test); now it is refused, naming the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lanes.crossings import Side
from services.gates.loader import default_gates
from services.xborder.prior import Prior
from streams.xborder import PreArrivalNoticeV1


def _notice(start: str, end: str, **fields: Any) -> PreArrivalNoticeV1:
    return PreArrivalNoticeV1(
        message_id="CN:notice:v-1",
        sender=Side.CN,
        sequence=1,
        event_time=datetime.fromisoformat("2026-12-06T13:40:00+08:00"),
        crossing_id="CN:youyiguan:M-1",
        tractor_plate="桂A·12345",
        from_gate="youyiguan",
        to_gate="huu-nghi",
        direction="import",  # type: ignore[arg-type]
        booked_slot_start=datetime.fromisoformat(start),
        booked_slot_end=datetime.fromisoformat(end),
        **fields,
    )


def test_a_slot_of_another_length_than_the_gates_is_refused_naming_the_field() -> None:
    prior = Prior(default_gates())
    reason = prior.slot_refusal(_notice("2026-12-06T16:00:00+07:00", "2026-12-06T16:30:00+07:00"))
    assert reason == (
        "invalid: booked_slot_end 2026-12-06T16:30:00+07:00: the slot is 30 min, huu-nghi's "
        "slots are 60 min (the one from 2026-12-06 16:00 local (UTC+07:00) ends at "
        "2026-12-06 17:00 local (UTC+07:00)): a notice names a slot of the gate it is bound "
        "for, as booked there"
    )


def test_a_slot_off_the_gates_grid_is_refused_naming_the_start() -> None:
    prior = Prior(default_gates())
    reason = prior.slot_refusal(_notice("2026-12-06T16:30:00+07:00", "2026-12-06T17:30:00+07:00"))
    assert reason is not None
    assert reason.startswith("invalid: booked_slot_start 2026-12-06T16:30:00+07:00: not one of "), (
        reason
    )
    assert (
        "huu-nghi's slots (60 min from local midnight: 2026-12-06 16:00 local (UTC+07:00) or "
        "2026-12-06 17:00 local (UTC+07:00))"
    ) in reason, reason


def test_a_slot_of_the_gate_or_none_or_another_gate_is_not_refused() -> None:
    prior = Prior(default_gates())
    # in another zone's writing, the same slot
    assert (
        prior.slot_refusal(_notice("2026-12-06T17:00:00+08:00", "2026-12-06T18:00:00+08:00"))
        is None
    )
    unbooked = _notice("2026-12-06T16:00:00+07:00", "2026-12-06T17:00:00+07:00")
    assert (
        prior.slot_refusal(
            unbooked.model_copy(update={"booked_slot_start": None, "booked_slot_end": None})
        )
        is None
    )
    elsewhere = unbooked.model_copy(update={"to_gate": "mong-cai"})  # not run here: not checked
    assert prior.slot_refusal(elsewhere) is None


def test_an_off_grid_slot_in_another_zone_is_refused_with_the_gates_slots_dated_and_zoned() -> None:
    """Found 2026-12-06 by a stranger sending China's notices by hand: a slot written in
    China's time, 2027-02-06T00:30:00+08:00 (23:30 on 2027-02-05 at Huu Nghi), was refused
    as 'not one of huu-nghi's slots (60 min from local midnight: 23:00 or 00:00)': bare
    times of an unnamed zone, and one of them the next day. Now each is its date, time and
    zone, as the slot length's refusal says them."""
    prior = Prior(default_gates())
    reason = prior.slot_refusal(_notice("2027-02-06T00:30:00+08:00", "2027-02-06T01:30:00+08:00"))
    assert reason is not None
    assert (
        "huu-nghi's slots (60 min from local midnight: 2027-02-05 23:00 local (UTC+07:00) or "
        "2027-02-06 00:00 local (UTC+07:00))"
    ) in reason, reason
