"""The exchange's persistence: every function runs inside the caller's transaction, so a
message's effect, its inbox row and the acknowledgement it triggers commit together.

- `take_local`: one of this side's crossing events -> the signed message in the outbox,
  with the next sequence number, and the fact on this side's crossing (idempotent by the
  local event id).
- `apply_received`: a verified message of the other side -> refused as replayed (its id was
  applied already) or reordered (not the next sequence of its sender), or applied: crossing
  fact, inbox row, sequence, and an ack in the outbox (an ack marks ours acknowledged).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.crossings import Crossing, Side, Sighting, TruckIdentity, match_entry
from services.xborder.tables import (
    XborderCrossingRow,
    XborderInboxRow,
    XborderOutboxRow,
    XborderSequenceRow,
)
from streams.xborder import (
    AckV1,
    EntryEventV1,
    ExitEventV1,
    PreArrivalNoticeV1,
    XBorderMessage,
)
from streams.xborder_local import LocalCrossingEventV1, build_message, message_id_for

SENT, RECEIVED = "sent", "received"
Signer = Callable[[XBorderMessage], bytes]


@dataclass(frozen=True, slots=True)
class Applied:
    """What became of one received message: `status` applied, redelivered (no-op),
    replayed or reordered."""

    status: str
    reason: str = ""


async def ensure_counters(session: AsyncSession, *, me: Side) -> None:
    """The two counter rows (sent by this side, received from the other), created before
    any message so that concurrent transactions lock a row instead of racing to insert."""
    for side, role in ((me, SENT), (me.other, RECEIVED)):
        row = {"side": side.value, "role": role, "last": 0}
        if session.get_bind().dialect.name == "postgresql":
            statement: Any = pg_insert(XborderSequenceRow).values(row).on_conflict_do_nothing()
        else:
            statement = sqlite_insert(XborderSequenceRow).values(row).on_conflict_do_nothing()
        await session.execute(statement)


async def _next_sequence(session: AsyncSession, side: Side) -> int:
    """This side's next sequence number; the counter row's lock serialises senders."""
    row = await session.get(XborderSequenceRow, (side.value, SENT), with_for_update=True)
    if row is None:
        row = XborderSequenceRow(side=side.value, role=SENT, last=0)
        session.add(row)
    row.last += 1
    await session.flush()
    return row.last


async def _store_outgoing(
    session: AsyncSession,
    message: XBorderMessage,
    *,
    sign: Signer,
    now: datetime,
    source_event_id: str | None,
) -> None:
    session.add(
        XborderOutboxRow(
            sequence=message.sequence,
            message_id=message.message_id,
            source_event_id=source_event_id,
            message_type=message.type,
            crossing_id=message.crossing_id,
            envelope=sign(message).decode(),
            event_time=message.event_time,
            created_at=now,
        )
    )


async def take_local(
    session: AsyncSession,
    event: LocalCrossingEventV1,
    *,
    me: Side,
    sign: Signer,
    now: datetime,
) -> str | None:
    """Queue the message for `event`; returns its crossing id, None if already taken."""
    taken = await session.scalar(
        select(XborderOutboxRow.sequence).where(XborderOutboxRow.source_event_id == event.event_id)
    )
    if taken is not None:
        return None
    crossing_id = event.crossing_id or await _crossing_of_entry(session, event, me=me)
    message = build_message(
        event,
        sender=me,
        sequence=await _next_sequence(session, me),
        crossing_id=crossing_id,
    )
    await _store_outgoing(session, message, sign=sign, now=now, source_event_id=event.event_id)
    await _record(session, message, from_side=me if event.kind != "entry" else me.other)
    return crossing_id


async def _crossing_of_entry(
    session: AsyncSession, event: LocalCrossingEventV1, *, me: Side
) -> str:
    """The crossing the other side announced that this arriving truck belongs to, else a
    crossing of its own (an unannounced arrival)."""
    rows = (
        await session.scalars(
            select(XborderCrossingRow).where(
                XborderCrossingRow.from_side == me.other.value,
                XborderCrossingRow.entry_at.is_(None),
            )
        )
    ).all()
    found = match_entry(event.identity(), [crossing_of(row) for row in rows])
    if found is not None:
        return found.crossing_id
    return f"{me.value}-unannounced-{event.event_id}"


async def apply_received(
    session: AsyncSession,
    message: XBorderMessage,
    *,
    key_id: str,
    payload: bytes,
    me: Side,
    sign: Signer,
    now: datetime,
    source: str | None = None,
) -> Applied:
    """Apply one verified message of the other side exactly once, or say why not. `source`
    names the record it came in: the same record again (a consumer redelivering after a
    restart) is `redelivered`, a no-op; the same id in another record is `replayed`."""
    seen = await session.get(XborderInboxRow, message.message_id)
    if seen is not None and source is not None and seen.source == source:
        return Applied("redelivered")
    if seen is not None:
        return Applied(
            "replayed",
            f"replayed: message {message.message_id} was applied already "
            f"(sequence {seen.sequence}, received {seen.received_at.isoformat()})",
        )
    counter = await session.get(
        XborderSequenceRow, (message.sender.value, RECEIVED), with_for_update=True
    )
    last = counter.last if counter is not None else 0
    if message.sequence != last + 1:
        what = "a gap" if message.sequence > last + 1 else "a regression"
        return Applied(
            "reordered",
            f"reordered: sequence {message.sequence} from {message.sender.value} after "
            f"{last} is {what} (expected {last + 1})",
        )
    if counter is None:
        session.add(XborderSequenceRow(side=message.sender.value, role=RECEIVED, last=1))
    else:
        counter.last = message.sequence
    session.add(
        XborderInboxRow(
            message_id=message.message_id,
            sender=message.sender.value,
            sequence=message.sequence,
            message_type=message.type,
            crossing_id=message.crossing_id,
            key_id=key_id,
            event_time=message.event_time,
            received_at=now,
            payload=payload.decode(),
            source=source,
        )
    )
    if isinstance(message, AckV1):
        await session.execute(
            update(XborderOutboxRow)
            .where(XborderOutboxRow.message_id == message.acked_message_id)
            .values(acked_at=now)
        )
    else:
        from_side = message.sender if not isinstance(message, EntryEventV1) else me
        await _record(session, message, from_side=from_side)
        ack = AckV1(
            message_id=message_id_for(me, f"ack-{message.message_id}"),
            sender=me,
            sequence=await _next_sequence(session, me),
            event_time=message.event_time,
            crossing_id=message.crossing_id,
            acked_message_id=message.message_id,
            acked_sequence=message.sequence,
        )
        await _store_outgoing(session, ack, sign=sign, now=now, source_event_id=None)
    await session.flush()
    return Applied("applied")


async def _record(session: AsyncSession, message: XBorderMessage, *, from_side: Side) -> None:
    """The message's fact on its crossing (created on first sight)."""
    row = await session.get(XborderCrossingRow, message.crossing_id, with_for_update=True)
    if row is None:
        row = XborderCrossingRow(crossing_id=message.crossing_id, from_side=from_side.value)
        session.add(row)
    if isinstance(message, PreArrivalNoticeV1):
        row.from_gate, row.to_gate = message.from_gate, message.to_gate
        row.direction = message.direction.value
        row.notice_message_id, row.notice_at = message.message_id, message.event_time
        row.notice_truck = _truck(message.identity())
        row.booked_slot_start = message.booked_slot_start
        row.booked_slot_end = message.booked_slot_end
    elif isinstance(message, ExitEventV1):
        row.from_gate, row.to_gate = message.from_gate, message.to_gate
        row.direction = message.direction.value
        row.exit_message_id, row.exit_at = message.message_id, message.event_time
        row.exit_mode = message.mode.value
        row.exit_truck = _truck(message.identity())
    elif isinstance(message, EntryEventV1):
        row.to_gate = message.gate_id
        row.entry_message_id, row.entry_at = message.message_id, message.event_time
        row.entry_truck = _truck(message.identity())
    await session.flush()


def _truck(truck: TruckIdentity) -> dict[str, Any]:
    return {
        "tractor_plate": truck.tractor_plate,
        "trailer_plate": truck.trailer_plate,
        "containers": list(truck.containers),
    }


def _identity(data: dict[str, Any]) -> TruckIdentity:
    return TruckIdentity(
        data["tractor_plate"], data.get("trailer_plate"), tuple(data.get("containers") or ())
    )


def _sighting(message_id: str | None, at: datetime | None, truck: Any) -> Sighting | None:
    if message_id is None or at is None or not isinstance(truck, dict):
        return None
    return Sighting(message_id, at, _identity(truck))


def crossing_of(row: XborderCrossingRow) -> Crossing:
    return Crossing(
        crossing_id=row.crossing_id,
        from_side=Side(row.from_side),
        notice=_sighting(row.notice_message_id, row.notice_at, row.notice_truck),
        exit=_sighting(row.exit_message_id, row.exit_at, row.exit_truck),
        entry=_sighting(row.entry_message_id, row.entry_at, row.entry_truck),
    )


async def all_crossings(session: AsyncSession) -> list[Crossing]:
    rows = (await session.scalars(select(XborderCrossingRow))).all()
    return [crossing_of(row) for row in rows]


async def unsent(session: AsyncSession, *, limit: int) -> Sequence[XborderOutboxRow]:
    """The messages not yet taken by the other side's broker, oldest sequence first."""
    query = (
        select(XborderOutboxRow)
        .where(XborderOutboxRow.sent_at.is_(None))
        .order_by(XborderOutboxRow.sequence)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def mark_sent(session: AsyncSession, sequences: Sequence[int], *, now: datetime) -> None:
    await session.execute(
        update(XborderOutboxRow)
        .where(XborderOutboxRow.sequence.in_(list(sequences)))
        .values(sent_at=now)
    )


@dataclass(frozen=True, slots=True)
class LinkState:
    """What the link's metrics and the control room show."""

    pending: int  # stored, not yet taken by the other side's broker
    oldest_pending_at: datetime | None  # wall clock when the oldest of them was stored
    unacked: int  # sent, not yet acknowledged
    last_sent: int
    last_received: int


async def link_state(session: AsyncSession, *, me: Side) -> LinkState:
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(XborderOutboxRow.created_at)).where(
                XborderOutboxRow.sent_at.is_(None)
            )
        )
    ).one()
    unacked = await session.scalar(
        select(func.count()).where(
            XborderOutboxRow.sent_at.is_not(None),
            XborderOutboxRow.acked_at.is_(None),
            XborderOutboxRow.message_type != "borderflow.xborder.ack",
        )
    )
    sent = await session.get(XborderSequenceRow, (me.value, SENT))
    received = await session.get(XborderSequenceRow, (me.other.value, RECEIVED))
    return LinkState(
        pending=int(pending),
        oldest_pending_at=oldest,
        unacked=int(unacked or 0),
        last_sent=sent.last if sent else 0,
        last_received=received.last if received else 0,
    )
