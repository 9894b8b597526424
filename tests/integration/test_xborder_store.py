"""The receiver's refusals that need the database (issue 21): a replayed message id, a
sequence gap and a regression, on SQLite and PostgreSQL; nothing of a refused message is
stored, and a message applied writes its inbox row, its fact and its ack together. The
control room's reads are bounded: the crossings that can carry an alert, not the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.crossings import Side
from services.db.engine import session_factory
from services.xborder import store as xstore
from services.xborder.refusals import Reply
from services.xborder.tables import XborderCrossingRow, XborderInboxRow, XborderOutboxRow
from streams.xborder import (
    AckV1,
    EntryEventV1,
    ExitEventV1,
    PreArrivalNoticeV1,
    RefusalV1,
    outgoing_payload,
)
from streams.xborder_local import LocalCrossingEventV1
from streams.xborder_sign import SigningKey, TrustedKeys, sign, verify
from tests.integration.xborder_harness import control_room_state

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
VN = SigningKey.generate("vn-1", Side.VN)
CN = SigningKey.generate("cn-1", Side.CN)


def _exit(sequence: int, message_id: str | None = None) -> ExitEventV1:
    return ExitEventV1(
        message_id=message_id or f"VN:e-{sequence}",
        sender=Side.VN,
        sequence=sequence,
        event_time=T0,
        crossing_id=f"VN-x{sequence}",
        tractor_plate="29H12345",
        from_gate="huu-nghi",
        to_gate="youyiguan",
        direction="export",  # type: ignore[arg-type]
        mode="road",  # type: ignore[arg-type]
    )


async def _apply(
    engine: AsyncEngine,
    message: ExitEventV1 | EntryEventV1 | AckV1 | PreArrivalNoticeV1,
    source: str | None = None,
) -> xstore.Applied:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await xstore.ensure_counters(session, me=Side.CN)
        return await xstore.apply_received(
            session,
            message,
            key_id=VN.key_id,
            payload=outgoing_payload(message),
            me=Side.CN,
            sign=lambda m: sign(m, CN),
            now=T0,
            source=source,
        )


async def _china_sent_an_exit(engine: AsyncEngine, crossing_id: str) -> XborderOutboxRow:
    """China's exit of `crossing_id` in its outbox (its first message), as its link takes it."""
    async with session_factory(engine)() as session, session.begin():
        await xstore.ensure_counters(session, me=Side.CN)
        event = LocalCrossingEventV1(
            event_id="cn-exit-1",
            kind="exit",
            at=T0,
            crossing_id=crossing_id,
            gate_id="youyiguan",
            peer_gate_id="huu-nghi",
            direction="import",
            mode="road",
            tractor_plate="GuiA12345",
        )
        await xstore.take_local(session, event, me=Side.CN, sign=lambda m: sign(m, CN), now=T0)
        return (await session.scalars(select(XborderOutboxRow))).one()


async def _count(engine: AsyncEngine, row: type) -> int:
    async with session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(row)))


async def test_applied_once_with_its_ack(engine: AsyncEngine) -> None:
    assert (await _apply(engine, _exit(1))).status == "applied"
    assert await _count(engine, XborderInboxRow) == 1
    assert await _count(engine, XborderCrossingRow) == 1
    assert await _count(engine, XborderOutboxRow) == 1  # the ack, signed by CN


async def test_replayed(engine: AsyncEngine) -> None:
    await _apply(engine, _exit(1))
    again = await _apply(engine, _exit(1))
    assert again.status == "replayed"
    assert "message VN:e-1 was applied already (sequence 1" in again.reason
    assert await _count(engine, XborderInboxRow) == 1
    assert await _count(engine, XborderOutboxRow) == 1


async def test_gap_and_regression_are_reordered(engine: AsyncEngine) -> None:
    gap = await _apply(engine, _exit(2))
    assert (gap.status, gap.reason) == (
        "reordered",
        "reordered: sequence 2 from VN after 0 is a gap (expected 1)",
    )
    assert (await _apply(engine, _exit(1))).status == "applied"
    assert (await _apply(engine, _exit(2))).status == "applied"
    regression = await _apply(engine, _exit(1, message_id="VN:other"))
    assert regression.status == "reordered"
    assert "sequence 1 from VN after 2 is a regression (expected 3)" in regression.reason
    assert await _count(engine, XborderInboxRow) == 2


async def test_the_same_record_again_is_a_redelivery_not_a_replay(engine: AsyncEngine) -> None:
    """A consumer restarted before its commit reads the record again: a no-op, no alert."""
    assert (await _apply(engine, _exit(1), "t:0:5")).status == "applied"
    assert (await _apply(engine, _exit(1), "t:0:5")).status == "redelivered"
    assert (await _apply(engine, _exit(1), "t:0:9")).status == "replayed"
    assert await _count(engine, XborderInboxRow) == 1


async def test_concurrent_writers_number_without_gaps_or_collisions(engine: AsyncEngine) -> None:
    """The outbound and the receiving loop of one side write at once (each of them numbers
    messages: its own, and the acks). SQLite's driver reads outside the transaction, so the
    counter is read by an UPDATE: before that, the demo lost messages to duplicate numbers."""
    import asyncio  # noqa: PLC0415

    from tests.integration.xborder_harness import departures  # noqa: PLC0415

    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await xstore.ensure_counters(session, me=Side.CN)
    local = departures(Side.CN, 60, start=T0)

    async def take(chunk: list) -> None:  # type: ignore[type-arg]
        async with sessions() as session, session.begin():
            unit = xstore.Unit(session, me=Side.CN, sign=lambda m: sign(m, CN), now=T0)
            await unit.take(chunk)

    async def apply(first: int) -> None:
        async with sessions() as session, session.begin():
            unit = xstore.Unit(session, me=Side.CN, sign=lambda m: sign(m, CN), now=T0)
            incoming = [
                xstore.Incoming(_exit(n), VN.key_id, b"{}") for n in range(first, first + 10)
            ]
            assert {r.status for r in await unit.apply(incoming)} == {"applied"}

    for round_ in range(6):
        await asyncio.gather(take(local[20 * round_ : 20 * round_ + 20]), apply(10 * round_ + 1))
    async with sessions() as session:
        sequences = sorted(await session.scalars(select(XborderOutboxRow.sequence)))
    assert sequences == list(range(1, 120 + 60 + 1))


async def test_the_control_room_reads_the_open_and_mismatched_crossings_not_the_history(
    engine: AsyncEngine,
) -> None:
    """Three trucks left VN; CN saw one enter as announced, one with another plate, one not
    at all. The alerts are reckoned from the two that can carry one, the gate clock is the
    second latest crossing's event (lanes.crossings.crossings_clock), the newest crossings
    come newest first."""
    for n in (1, 2, 3):
        exit_ = _exit(n).model_copy(update={"event_time": T0 + timedelta(minutes=n)})
        assert (await _apply(engine, exit_)).status == "applied"
    sessions = session_factory(engine)
    for n, plate in ((1, "29H12345"), (2, "29H99999")):
        entry = LocalCrossingEventV1(
            event_id=f"cn-entry-{n}",
            kind="entry",
            at=T0 + timedelta(minutes=30 + n),
            crossing_id=f"VN-x{n}",
            gate_id="youyiguan",
            tractor_plate=plate,
        )
        async with sessions() as session, session.begin():
            await xstore.take_local(session, entry, me=Side.CN, sign=lambda m: sign(m, CN), now=T0)
    async with sessions() as session:
        candidates = {c.crossing_id for c in await xstore.alert_candidates(session)}
        clock = await xstore.gate_clock(session)
        newest = [c.crossing_id for c in await xstore.newest_crossings(session, limit=2)]
    assert candidates == {"VN-x2", "VN-x3"}  # mismatched; left and not entered
    assert clock == T0 + timedelta(minutes=31)  # VN-x1 entered; VN-x2 at 32 is the latest
    assert newest == ["VN-x2", "VN-x1"]


async def test_a_resend_is_acknowledged_again_and_a_replay_of_it_refused(
    engine: AsyncEngine,
) -> None:
    """The sender's later transmission (signed, `attempt` 2) of a message applied here has
    no effect but a second ack of its own id; the same transmission again is a replay."""
    assert (await _apply(engine, _exit(1), "t:0:1")).status == "applied"
    resend = _exit(1).model_copy(update={"attempt": 2})
    assert (await _apply(engine, resend, "t:0:2")).status == "resent"
    again = await _apply(engine, resend, "t:0:3")
    assert again.status == "replayed"
    first_again = await _apply(engine, _exit(1), "t:0:4")
    assert first_again.status == "replayed"
    assert await _count(engine, XborderInboxRow) == 1
    assert await _count(engine, XborderCrossingRow) == 1
    async with session_factory(engine)() as session:
        acks = list(await session.scalars(select(XborderOutboxRow.message_id)))
    assert len(acks) == len(set(acks)) == 2  # the first ack and the resend's


async def test_go_back_n_signs_each_resend_anew_from_the_first_unacknowledged(
    engine: AsyncEngine,
) -> None:
    """Three sent, the first acknowledged: the other two are unsent again, each with its
    next attempt, signed (the receiver tells a resend from a replay by it)."""
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await xstore.ensure_counters(session, me=Side.VN)
        for n in (1, 2, 3):
            event = LocalCrossingEventV1(
                event_id=f"vn-exit-{n}",
                kind="exit",
                at=T0,
                crossing_id=f"VN-x{n}",
                gate_id="huu-nghi",
                peer_gate_id="youyiguan",
                direction="export",
                mode="road",
                tractor_plate="29H12345",
            )
            await xstore.take_local(session, event, me=Side.VN, sign=lambda m: sign(m, VN), now=T0)
        await xstore.mark_sent(session, [1, 2, 3], now=T0)
        await session.execute(
            update(XborderOutboxRow).where(XborderOutboxRow.sequence == 1).values(acked_at=T0)
        )
    async with sessions() as session, session.begin():
        first = await xstore.rewind_unacknowledged(
            session, sent_before=T0 + timedelta(minutes=1), sign=lambda m: sign(m, VN)
        )
    assert first == 2
    async with sessions() as session:
        rows = {r.sequence: r for r in await session.scalars(select(XborderOutboxRow))}
    trusted = TrustedKeys.of(VN.trusted())
    attempts = {n: verify(rows[n].envelope.encode(), trusted).attempt for n in rows}
    assert attempts == {1: 1, 2: 2, 3: 2}
    assert [n for n, r in sorted(rows.items()) if r.sent_at is None] == [2, 3]
    async with sessions() as session, session.begin():  # nothing overdue now
        assert (
            await xstore.rewind_unacknowledged(session, sent_before=T0, sign=lambda m: sign(m, VN))
            is None
        )


async def test_an_ack_of_no_message_sent_is_refused_in_its_place(engine: AsyncEngine) -> None:
    """An ack that names a message this side never sent, or one of its messages under
    another sequence, acknowledges nothing: refused as invalid, saying which field is
    wrong, in its place (the next message is applied). It was applied in silence: a peer
    building its acks wrong never learnt it, and our message was resent for ever."""
    sessions = session_factory(engine)
    ours = await _china_sent_an_exit(engine, "CN-x1")

    def ack(sequence: int, acked_id: str, acked_sequence: int) -> AckV1:
        return AckV1(
            message_id=f"VN:ack-{sequence}",
            sender=Side.VN,
            sequence=sequence,
            event_time=T0,
            crossing_id="CN-x1",
            acked_message_id=acked_id,
            acked_sequence=acked_sequence,
        )

    unknown = await _apply(engine, ack(1, "cn-exit-1", ours.sequence))
    assert unknown.status == "invalid"
    assert unknown.reason == "invalid: acked_message_id 'cn-exit-1' is no message CN sent"
    wrong = await _apply(engine, ack(2, ours.message_id, 7))
    assert wrong.status == "invalid"
    assert wrong.reason == (
        f"invalid: acked_sequence 7 is not the sequence of {ours.message_id} ({ours.sequence})"
    )
    async with sessions() as session:
        row = await session.get(XborderOutboxRow, ours.sequence)
        assert row is not None and row.acked_at is None
    assert (await _apply(engine, ack(3, ours.message_id, ours.sequence))).status == "applied"
    async with sessions() as session:
        row = await session.get(XborderOutboxRow, ours.sequence)
        assert row is not None and row.acked_at is not None
        refusals = list(await session.scalars(select(XborderInboxRow.refusal)))
    assert sorted(r is None for r in refusals) == [False, False, True]
    assert await _count(engine, XborderOutboxRow) == 1  # an ack is not acknowledged


async def test_the_other_side_reports_only_its_own_direction_of_a_crossing(
    engine: AsyncEngine,
) -> None:
    """Vietnam reports the exit of a truck leaving Vietnam and the entry of a truck arriving
    from China, not the reverse: an exit of Vietnam naming China's own crossing replaced
    China's exit with Vietnam's; an entry of Vietnam naming its own truck marked it
    entered in China (its overdue alert gone). Each is refused as invalid in its place,
    the crossing untouched, and the next message applied."""
    sessions = session_factory(engine)
    await _china_sent_an_exit(engine, "CN-x1")

    hijack = await _apply(engine, _exit(1).model_copy(update={"crossing_id": "CN-x1"}))
    assert (hijack.status, hijack.reason) == (
        "invalid",
        "invalid: crossing_id 'CN-x1' is a truck leaving CN: an exit from VN can only be of "
        "a truck leaving VN",
    )
    assert (await _apply(engine, _exit(2))).status == "applied"  # VN-x2, leaving VN

    def entry(sequence: int, crossing_id: str) -> EntryEventV1:
        return EntryEventV1(
            message_id=f"VN:in-{sequence}",
            sender=Side.VN,
            sequence=sequence,
            event_time=T0 + timedelta(minutes=20),
            crossing_id=crossing_id,
            gate_id="huu-nghi",
            tractor_plate="GuiA12345",
        )

    own = await _apply(engine, entry(3, "VN-x2"))
    assert (own.status, own.reason) == (
        "invalid",
        "invalid: crossing_id 'VN-x2' is a truck leaving VN: an entry from VN can only be of "
        "a truck arriving from CN",
    )
    assert (await _apply(engine, entry(4, "CN-x1"))).status == "applied"
    async with sessions() as session:
        rows = {r.crossing_id: r for r in await session.scalars(select(XborderCrossingRow))}
    assert rows["CN-x1"].exit_message_id == "CN:cn-exit-1"
    assert rows["CN-x1"].entry_message_id == "VN:in-4"
    assert rows["VN-x2"].exit_message_id == "VN:e-2" and rows["VN-x2"].entry_at is None


async def test_a_resend_with_other_content_is_refused_not_acknowledged(
    engine: AsyncEngine,
) -> None:
    """A peer "correcting" a message by resending its id with a higher attempt and another
    plate was acknowledged again and the change dropped in silence: it believed the
    correction applied. Refused as a replay naming the fields, no effect, no ack; the
    same fact resent is acknowledged again as before."""
    assert (await _apply(engine, _exit(1), "t:0:1")).status == "applied"
    corrected = _exit(1).model_copy(update={"attempt": 2, "tractor_plate": "29H99999"})
    refused = await _apply(engine, corrected, "t:0:2")
    assert (refused.status, refused.reason) == (
        "replayed",
        "replayed: message VN:e-1 was applied already (sequence 1) with other tractor_plate: "
        "a resend carries the same fact; a correction is a new message with an id of its own",
    )
    assert await _count(engine, XborderOutboxRow) == 1  # the first ack only
    same = _exit(1).model_copy(update={"attempt": 3})
    assert (await _apply(engine, same, "t:0:3")).status == "resent"
    async with session_factory(engine)() as session:
        row = await session.get(XborderCrossingRow, "VN-x1")
        assert row is not None and row.exit_truck is not None
        assert row.exit_truck["tractor_plate"] == "29H12345"
    assert await _count(engine, XborderOutboxRow) == 2


async def test_a_message_id_of_the_longest_allowed_is_acknowledged(engine: AsyncEngine) -> None:
    """The agreement lets a message id be 128 characters; the ack's id was built as
    `CN:ack-<id>`, longer, and failed validation inside the receiving transaction: the
    message was dead-lettered as a handler error, every later one refused as a gap, and
    the sender's resends failed the same way, for ever. The ack's id is hashed when the
    plain one would be too long, one per transmission."""
    longest = "VN:" + "x" * 125
    assert (await _apply(engine, _exit(1, message_id=longest), "t:0:1")).status == "applied"
    resend = _exit(1, message_id=longest).model_copy(update={"attempt": 2})
    assert (await _apply(engine, resend, "t:0:2")).status == "resent"
    assert (await _apply(engine, _exit(2), "t:0:3")).status == "applied"
    async with session_factory(engine)() as session:
        rows = list(await session.scalars(select(XborderOutboxRow).order_by("sequence")))
    trusted = TrustedKeys.of(CN.trusted())
    acks = [verify(r.envelope.encode(), trusted) for r in rows]
    assert [a.acked_message_id for a in acks] == [longest, longest, "VN:e-2"]  # type: ignore[union-attr]
    ids = [a.message_id for a in acks]
    assert len(set(ids)) == 3 and all(len(i) <= 128 for i in ids)
    assert ids[0].startswith("CN:ack-") and ids[1].endswith("-2")
    assert ids[2] == "CN:ack-VN:e-2"  # a short id stays as it was


async def test_a_notice_or_exit_of_the_other_direction_is_refused_on_a_new_crossing(
    engine: AsyncEngine,
) -> None:
    """`direction` keeps the corridor's meaning on both sides (export: Vietnam -> China),
    so Vietnam's notice or exit is of a truck going `export`. One going `import` (leaving
    China) on a crossing this side did not know yet was applied: the crossing recorded as
    Vietnam's, going the wrong way (with a prior, an announced manifest for this side's
    outgoing lane), and China's own notice and Vietnam's entry of that truck refused after
    it (found by a stranger sending China's notices by hand). Refused as invalid in its
    place, nothing recorded, and the next message applied."""
    notice = PreArrivalNoticeV1(
        message_id="VN:n-1",
        sender=Side.VN,
        sequence=1,
        event_time=T0,
        crossing_id="CN:youyiguan:M7",
        tractor_plate="GuiA12345",
        from_gate="youyiguan",
        to_gate="huu-nghi",
        direction="import",  # type: ignore[arg-type]
    )
    wrong = await _apply(engine, notice)
    assert (wrong.status, wrong.reason) == (
        "invalid",
        "invalid: direction 'import' is a truck leaving CN: a pre-arrival-notice from VN can "
        "only be of a truck leaving VN (direction 'export')",
    )
    backwards = ExitEventV1.model_validate({**_exit(2).model_dump(), "direction": "import"})
    assert (await _apply(engine, backwards)).reason == (
        "invalid: direction 'import' is a truck leaving CN: an exit from VN can only be of "
        "a truck leaving VN (direction 'export')"
    )
    assert (await _apply(engine, _exit(3))).status == "applied"
    async with session_factory(engine)() as session:
        crossings = set(await session.scalars(select(XborderCrossingRow.crossing_id)))
    assert crossings == {"VN-x3"}


async def test_a_corrected_resend_of_a_message_refused_in_its_place_is_refused_not_acknowledged(
    engine: AsyncEngine,
) -> None:
    """A message refused in its place keeps no payload, so a resend under its id with a
    higher attempt compared as "the same fact": the peer's correction (the direction put
    right) was acknowledged again as `resent` and dropped in silence, the peer believing it
    applied (found by a stranger's try, as the resend with other content above). Refused as
    a replay naming the first refusal, not acknowledged; the same message resent is
    acknowledged again."""
    wrong = ExitEventV1.model_validate({**_exit(1).model_dump(), "direction": "import"})
    assert (await _apply(engine, wrong, "t:0:1")).status == "invalid"
    assert await _count(engine, XborderOutboxRow) == 1  # its ack, in its place
    corrected = _exit(1).model_copy(update={"attempt": 2})
    refused = await _apply(engine, corrected, "t:0:2")
    assert (refused.status, refused.reason) == (
        "replayed",
        "replayed: message VN:e-1 was refused in its place (sequence 1: invalid: direction "
        "'import' is a truck leaving CN: an exit from VN can only be of a truck leaving VN "
        "(direction 'export')); a resend carries the same fact; a correction is a new "
        "message with an id of its own",
    )
    assert await _count(engine, XborderOutboxRow) == 1
    same = wrong.model_copy(update={"attempt": 3})
    assert (await _apply(engine, same, "t:0:3")).status == "resent"
    assert await _count(engine, XborderOutboxRow) == 2
    assert await _count(engine, XborderCrossingRow) == 0
    copy = await _apply(engine, same, "t:0:4")  # the same transmission in another record
    assert copy.status == "replayed"
    assert copy.reason.startswith("replayed: message VN:e-1 was refused in its place already")


async def test_a_refusal_is_kept_on_the_message_it_names_and_sent_as_a_signed_message(
    engine: AsyncEngine,
) -> None:
    """The sender is told what the receiver refused (until 2026-12-06 it was not: the
    refusal was listed on the receiving side only). China sent an exit; Vietnam's refusal
    naming it is kept on China's message and listed in China's control room as 'refused by
    VN: ...', not acknowledged and not answered; one naming no message of China's is
    refused in its place, not answered either (no refusal of a refusal). China's own
    refusal (`Unit.refuse`) is a signed message numbered like its others, never resent
    as unacknowledged."""
    sessions = session_factory(engine)
    ours = await _china_sent_an_exit(engine, "CN:youyiguan:M-1")
    reason = "invalid: from_gate 'huu-nghi' is not a gate of CN: ..."

    def refusal(sequence: int, refused_id: str, kind: str = "invalid") -> RefusalV1:
        return RefusalV1(
            message_id=f"VN:refusal-{sequence}",
            sender=Side.VN,
            sequence=sequence,
            event_time=T0,
            crossing_id="CN:youyiguan:M-1",
            refused_message_id=refused_id,
            refused_sequence=1,
            kind=kind,  # type: ignore[arg-type]
            reason=reason if kind == "invalid" else f"{kind}: after a gap",
        )

    assert (await _apply(engine, refusal(1, ours.message_id))).status == "applied"
    stray = await _apply(engine, refusal(2, "CN:exit:nothing"))
    assert (stray.status, stray.reason) == (
        "invalid",
        "invalid: refused_message_id 'CN:exit:nothing' is no message CN sent (VN refused "
        "it as invalid)",
    )
    async with sessions() as session:
        row = await session.get(XborderOutboxRow, ours.sequence)
        assert row is not None
        assert (row.peer_refused_kind, row.peer_refusal) == ("invalid", reason)
        assert row.peer_refused_at == T0 and row.acked_at is None
    assert await _count(engine, XborderOutboxRow) == 1  # nothing sent back for either
    body = await control_room_state(sessions, gate="youyiguan")
    assert body["link"]["refused_by_peer"] == 1
    [shown] = body["refused_by_peer"]
    assert shown["message_id"] == ours.message_id and shown["kind"] == "invalid"
    assert shown["text"] == f"refused by VN: {reason}"
    # a refusal of a transmission after a gap hides no refusal of the content
    assert (await _apply(engine, refusal(3, ours.message_id, "reordered"))).status == "applied"
    async with sessions() as session:
        row = await session.get(XborderOutboxRow, ours.sequence)
        assert row is not None and (row.peer_refused_kind, row.peer_refusal) == ("invalid", reason)

    async with sessions() as session, session.begin():
        unit = xstore.Unit(session, me=Side.CN, sign=lambda m: sign(m, CN), now=T0)
        reply = Reply("VN:exit:v-2", 2, "invalid", "invalid: why", None, None)
        [sent] = await unit.refuse([reply])
    assert (sent.message_id, sent.sequence) == ("CN:refusal-2", 2)
    async with sessions() as session, session.begin():
        stored = await session.get(XborderOutboxRow, 2)
        assert stored is not None and stored.message_type == "borderflow.xborder.refusal"
        on_wire = verify(stored.envelope.encode(), TrustedKeys.of(CN.trusted()))
        assert isinstance(on_wire, RefusalV1)
        assert (on_wire.refused_message_id, on_wire.kind) == ("VN:exit:v-2", "invalid")
        assert on_wire.crossing_id == "VN:exit:v-2" and on_wire.event_time == T0
        await xstore.mark_sent(session, [1, 2], now=T0)
    async with sessions() as session, session.begin():
        later = T0 + timedelta(hours=1)
        first = await xstore.rewind_unacknowledged(
            session, sent_before=later, sign=lambda m: sign(m, CN)
        )
        assert first == 1  # the exit, overdue; its refusal is a reply, not resent alone
        assert (await xstore.link_state(session, me=Side.CN)).unacked == 0


async def test_a_refusal_as_reordered_is_cleared_once_the_message_is_acknowledged(
    engine: AsyncEngine,
) -> None:
    """A refusal as reordered is of one transmission after a gap: once the resend filled it
    and the message was applied (its ack), the sender's message no longer shows it refused;
    a late one of a message acknowledged already is not kept."""
    sessions = session_factory(engine)
    ours = await _china_sent_an_exit(engine, "CN:youyiguan:M-1")

    def reordered(sequence: int) -> RefusalV1:
        return RefusalV1(
            message_id=f"VN:refusal-{sequence}",
            sender=Side.VN,
            sequence=sequence,
            event_time=T0,
            crossing_id=ours.crossing_id,
            refused_message_id=ours.message_id,
            refused_sequence=ours.sequence,
            kind="reordered",
            reason="reordered: sequence 1 from CN after 0 is a gap (expected 0)",
        )

    async def kind() -> str | None:
        async with sessions() as session:
            row = await session.get(XborderOutboxRow, ours.sequence)
            assert row is not None
            return row.peer_refused_kind

    assert (await _apply(engine, reordered(1))).status == "applied"
    assert await kind() == "reordered"
    ack = AckV1(
        message_id=f"VN:ack-{ours.message_id}",
        sender=Side.VN,
        sequence=2,
        event_time=T0,
        crossing_id=ours.crossing_id,
        acked_message_id=ours.message_id,
        acked_sequence=ours.sequence,
    )
    assert (await _apply(engine, ack)).status == "applied"
    assert await kind() is None
    assert (await _apply(engine, reordered(3))).status == "applied"
    assert await kind() is None
