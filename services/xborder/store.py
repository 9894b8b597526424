"""The exchange's persistence: every function runs inside the caller's transaction, so a
message's effect, its inbox row and the acknowledgement it triggers commit together.

- `take_local`: one of this side's crossing events -> the signed message in the outbox,
  with the next sequence number, and the fact on this side's crossing (idempotent by the
  local event id).
- `apply_received`: a verified message of the other side -> refused as replayed (its id was
  applied already) or reordered (not the next sequence of its sender), or applied: crossing
  fact, inbox row, sequence, and an ack in the outbox (an ack marks ours acknowledged). A
  signed message that is not valid (`invalid`, its header readable) takes its place in the
  sequence the same way, with no effect: an inbox row with the refusal, and an ack, so the
  messages after it are applied and the sender stops resending what can never be applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.crossing_clocks import SKEW_WINDOW, AlertsClock, alerts_clock, estimate_skew
from lanes.crossings import (
    CLOCK_WITNESSES,
    DATED_AHEAD_AFTER,
    Crossing,
    Side,
    Sighting,
    TruckIdentity,
    crossings_clock,
    match_entry,
    mismatch,
)
from services.xborder.corridor import CrossingGates
from services.xborder.facts import outgoing_direction
from services.xborder.prior import Prior
from services.xborder.refusals import Reply
from services.xborder.tables import (
    XborderCrossingRow,
    XborderInboxRow,
    XborderOutboxRow,
    XborderSequenceRow,
)
from streams.errors import InvalidEvent
from streams.xborder import (
    ACK_TYPE,
    MESSAGE_ID_MAX,
    REPLY_TYPES,
    AckV1,
    EntryEventV1,
    ExitEventV1,
    MessageHeader,
    PreArrivalNoticeV1,
    RefusalV1,
    XBorderMessage,
    decode_message,
)
from streams.xborder_local import LocalCrossingEventV1, build_message, message_id_for
from streams.xborder_sign import signed_payload

SENT, RECEIVED = "sent", "received"
Signer = Callable[[XBorderMessage], bytes]


@dataclass(frozen=True, slots=True)
class Applied:
    """What became of one received message: `status` applied, redelivered (the same
    record again: a no-op), resent (the sender's later transmission of a message applied
    here: acknowledged again, no other effect), replayed or reordered (refused), or invalid
    (refused, but counted as received in its sender's sequence and acknowledged)."""

    status: str
    reason: str = ""


Header = XBorderMessage | MessageHeader  # what the sequence checks need of a message


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


class Unit:
    """One transaction's worth of exchange work, in batches: a few statements a batch
    rather than a few a message (counters locked once, crossings loaded at once)."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        me: Side,
        sign: Signer,
        now: datetime,
        prior: Prior | None = None,
        gates: CrossingGates | None = None,
    ) -> None:
        self.session, self.me, self.sign, self.now = session, me, sign, now
        self.prior = prior  # the other side's notices as a prior here (services/xborder/prior.py)
        self.gates = gates  # the gates the other side may name (None: not checked)
        self._counters: dict[tuple[str, str], int] = {}
        self._crossings: dict[str, XborderCrossingRow] = {}
        # this side's message id -> its sequence and type (acks' checks)
        self._sent: dict[str, tuple[int, str]] = {}

    async def _lock(self, side: Side, role: str) -> int:
        """The counter's value, read by an UPDATE: the row stays locked (PostgreSQL) or the
        database's write lock held (SQLite, whose driver runs a plain SELECT outside the
        transaction) until commit, so no other writer interleaves. Taken before anything
        else is read."""
        key = (side.value, role)
        if key not in self._counters:
            value = await self._touch(key)
            if value is None:
                await ensure_counters(self.session, me=self.me if role == SENT else side.other)
                value = await self._touch(key)
            assert value is not None
            self._counters[key] = value
        return self._counters[key]

    async def _touch(self, key: tuple[str, str]) -> int | None:
        row = XborderSequenceRow
        statement = (
            update(row)
            .where(row.side == key[0], row.role == key[1])
            .values(last=row.last)
            .returning(row.last)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def _write_counters(self) -> None:
        row = XborderSequenceRow
        for (side, role), value in self._counters.items():
            await self.session.execute(
                update(row).where(row.side == side, row.role == role).values(last=value)
            )

    async def _next_sequence(self) -> int:
        key = (self.me.value, SENT)
        self._counters[key] = await self._lock(self.me, SENT) + 1
        return self._counters[key]

    async def _load_crossings(self, ids: set[str]) -> None:
        wanted = ids - self._crossings.keys()
        if wanted:
            query = select(XborderCrossingRow).where(XborderCrossingRow.crossing_id.in_(wanted))
            for row in (await self.session.scalars(query)).all():
                self._crossings[row.crossing_id] = row

    async def _load_sent(self, ids: set[str]) -> None:
        """The sequence of each of this side's messages named by an ack in the batch."""
        if ids:
            out = XborderOutboxRow
            query = select(out.message_id, out.sequence, out.message_type).where(
                out.message_id.in_(ids)
            )
            found = (await self.session.execute(query)).all()
            self._sent.update({mid: (seq, kind) for mid, seq, kind in found})

    def _ack_refusal(self, ack: AckV1) -> str | None:
        """Why an ack cannot acknowledge anything here: it names a message this side never
        sent, or one of its messages under another sequence (a peer that builds its acks
        wrong would otherwise be answered by silence, and our message resent for ever)."""
        sent = self._sent.get(ack.acked_message_id)
        if sent is None:
            return (
                f"invalid: acked_message_id {ack.acked_message_id!r} is no message "
                f"{self.me.value} sent"
            )
        sequence, kind = sent
        if kind in REPLY_TYPES:
            # nothing acknowledges an ack (until 2026-12-06 one was applied in silence) or
            # a refusal
            what = ("an ack", "acks") if kind == ACK_TYPE else ("a refusal", "refusals")
            return (
                f"invalid: acked_message_id {ack.acked_message_id!r} is {what[0]}: {what[1]} "
                "are not acknowledged"
            )
        if sequence != ack.acked_sequence:
            return (
                f"invalid: acked_sequence {ack.acked_sequence} is not the sequence of "
                f"{ack.acked_message_id} ({sequence})"
            )
        return None

    def _origin_refusal(self, message: XBorderMessage) -> str | None:
        """Why the other side's fact cannot be recorded on the crossing it names: a side
        reports the notice and exit of a truck leaving it and the entry of a truck arriving
        from here, never the facts of the other direction (an exit of CN recorded on a truck
        leaving VN replaced VN's own exit; an entry of CN on a truck leaving CN marked it
        entered here, and its overdue alert went away). A notice or exit names its truck's
        `direction` too (the corridor's: export is VN -> CN on both sides): one of the other
        direction is refused on a crossing not known here as well (it was recorded as the
        sender's, going the wrong way, and the crossing's real facts refused after it)."""
        arriving = isinstance(message, EntryEventV1)
        sender, kind = message.sender.value, message.type.rsplit(".", 1)[-1]
        article = "an" if kind[0] in "aeiou" else "a"
        if isinstance(message, PreArrivalNoticeV1 | ExitEventV1):
            outgoing = outgoing_direction(message.sender)
            if message.direction is not outgoing:
                return (
                    f"invalid: direction {message.direction.value!r} is a truck leaving "
                    f"{message.sender.other.value}: {article} {kind} from {sender} can only "
                    f"be of a truck leaving {sender} (direction {outgoing.value!r})"
                )
        if self.gates is not None and (refused := self.gates.refusal(message)) is not None:
            return refused
        if (  # a notice's booked slot is one of its gate's own, as booked there
            self.prior is not None
            and isinstance(message, PreArrivalNoticeV1)
            and (refused := self.prior.slot_refusal(message)) is not None
        ):
            return refused
        row = self._crossings.get(message.crossing_id)
        if row is None:
            return None
        leaving = message.sender.other if arriving else message.sender
        if row.from_side == leaving.value:
            return None
        can = f"arriving from {self.me.value}" if arriving else f"leaving {sender}"
        return (
            f"invalid: crossing_id {message.crossing_id!r} is a truck leaving "
            f"{row.from_side}: {article} {kind} from {sender} can only be of a truck {can}"
        )

    def _crossing(self, crossing_id: str, from_side: Side) -> XborderCrossingRow:
        row = self._crossings.get(crossing_id)
        if row is None:
            row = XborderCrossingRow(crossing_id=crossing_id, from_side=from_side.value)
            self.session.add(row)
            self._crossings[crossing_id] = row
        return row

    async def _store_outgoing(self, message: XBorderMessage, source_event_id: str | None) -> None:
        self.session.add(
            XborderOutboxRow(
                sequence=message.sequence,
                message_id=message.message_id,
                source_event_id=source_event_id,
                message_type=message.type,
                crossing_id=message.crossing_id,
                envelope=self.sign(message).decode(),
                event_time=message.event_time,
                created_at=self.now,
            )
        )

    async def take(self, events: Sequence[LocalCrossingEventV1]) -> list[str | None]:
        """Queue the message of each event; its crossing id, None if taken already."""
        await self._lock(self.me, SENT)
        ids = [e.event_id for e in events]
        taken = set(
            await self.session.scalars(
                select(XborderOutboxRow.source_event_id).where(
                    XborderOutboxRow.source_event_id.in_(ids)
                )
            )
        )
        await self._load_crossings({e.crossing_id for e in events if e.crossing_id})
        awaited = await self._awaited() if any(e.crossing_id is None for e in events) else []
        results: list[str | None] = []
        for event in events:
            if event.event_id in taken:
                results.append(None)
                continue
            taken.add(event.event_id)
            crossing_id = event.crossing_id or self._crossing_of_entry(event, awaited)
            message = build_message(
                event, sender=self.me, sequence=await self._next_sequence(), crossing_id=crossing_id
            )
            await self._store_outgoing(message, event.event_id)
            from_side = self.me if event.kind != "entry" else self.me.other
            _record(self._crossing(crossing_id, from_side), message)
            results.append(crossing_id)
        await self._write_counters()
        return results

    async def _awaited(self) -> list[Crossing]:
        """The crossings the other side announced that have not entered here."""
        query = select(XborderCrossingRow).where(
            XborderCrossingRow.from_side == self.me.other.value,
            XborderCrossingRow.entry_at.is_(None),
        )
        rows = (await self.session.scalars(query)).all()
        for row in rows:
            self._crossings.setdefault(row.crossing_id, row)
        return [crossing_of(self._crossings[row.crossing_id]) for row in rows]

    def _crossing_of_entry(self, event: LocalCrossingEventV1, awaited: list[Crossing]) -> str:
        """The announced crossing this arriving truck belongs to (no longer awaited once
        matched), else one of its own (an unannounced arrival)."""
        found = match_entry(event.identity(), awaited)
        if found is not None:
            awaited.remove(found)
            return found.crossing_id
        return f"{self.me.value}-unannounced-{event.event_id}"

    async def apply(self, received: Sequence[Incoming]) -> list[Applied]:
        """Apply each verified message of the other side exactly once, or say why not."""
        await self._lock(self.me.other, RECEIVED)
        await self._lock(self.me, SENT)
        ids = [item.message.message_id for item in received]
        seen = {
            row.message_id: row
            for row in (
                await self.session.scalars(
                    select(XborderInboxRow).where(XborderInboxRow.message_id.in_(ids))
                )
            ).all()
        }
        await self._load_crossings({item.message.crossing_id for item in received})
        messages = [i.message for i in received]
        await self._load_sent(
            {m.acked_message_id for m in messages if isinstance(m, AckV1)}
            | {m.refused_message_id for m in messages if isinstance(m, RefusalV1)}
        )
        acked: list[str] = []
        refused: list[RefusalV1] = []
        results = []
        for item in received:
            result = await self._apply_one(item, seen, acked, refused)
            results.append(result)
        if acked:
            out = XborderOutboxRow
            await self.session.execute(
                update(out).where(out.message_id.in_(acked)).values(acked_at=self.now)
            )
            # a refusal as reordered was of a transmission after a gap: acknowledged now,
            # the resend filled it and the message was applied (the other kinds stay: a
            # content the other side refused, or a copy of it)
            await self.session.execute(
                update(out)
                .where(out.message_id.in_(acked), out.peer_refused_kind == "reordered")
                .values(peer_refused_at=None, peer_refused_kind=None, peer_refusal=None)
            )
        for refusal in refused:  # on the message it names, for this side's operators
            out = XborderOutboxRow
            named = out.message_id == refusal.refused_message_id
            if refusal.kind == "reordered":
                # of one transmission after a gap: stale once the message is acknowledged
                # (acks are applied first), and it hides no refusal of its content
                named = and_(
                    named,
                    out.acked_at.is_(None),
                    or_(out.peer_refused_kind.is_(None), out.peer_refused_kind == "reordered"),
                )
            await self.session.execute(
                update(out)
                .where(named)
                .values(
                    peer_refused_at=self.now,
                    peer_refused_kind=refusal.kind,
                    peer_refusal=refusal.reason,
                )
            )
        await self._write_counters()
        return results

    async def refuse(self, replies: Sequence[Reply]) -> list[RefusalV1]:
        """Queue a refusal to the other side for each of `replies` (its records this side
        refused: `refusals.reply_to`), numbered and signed like every message of this side,
        in the receiver's transaction. Its id is `<side>:refusal-<its sequence>`: a record
        may be refused again (a resend, a copy), each refusal a message of its own."""
        queued = []
        for reply in replies:
            sequence = await self._next_sequence()
            message = RefusalV1(
                message_id=message_id_for(self.me, f"refusal-{sequence}"),
                sender=self.me,
                sequence=sequence,
                # the refused message's time, else when it was received (wall clock: a
                # record whose time cannot be read)
                event_time=reply.event_time or self.now,
                crossing_id=reply.crossing_id or reply.refused_message_id,
                refused_message_id=reply.refused_message_id,
                refused_sequence=reply.refused_sequence,
                kind=reply.kind,
                reason=reply.reason,
            )
            await self._store_outgoing(message, None)
            queued.append(message)
        await self._write_counters()
        return queued

    async def _apply_one(
        self,
        item: Incoming,
        seen: dict[str, XborderInboxRow],
        acked: list[str],
        refused: list[RefusalV1],
    ) -> Applied:
        message = item.message
        before = seen.get(message.message_id)
        if before is not None and item.source is not None and before.source == item.source:
            return Applied("redelivered")
        if before is not None and message.attempt > before.attempt:
            if before.refusal is not None and self._refusal(item) != before.refusal:
                # refused in its place, its payload not kept: refused otherwise now (or
                # not), it is not the same message (a correction was acknowledged again as
                # `resent` and dropped in silence)
                return Applied(
                    "replayed",
                    f"replayed: message {message.message_id} was refused in its place "
                    f"(sequence {before.sequence}: {before.refusal}); a resend carries the "
                    "same fact; a correction is a new message with an id of its own",
                )
            changed = _changed_fields(before.payload, item.payload)
            if changed:
                return Applied(
                    "replayed",
                    f"replayed: message {message.message_id} was applied already (sequence "
                    f"{before.sequence}) with other {', '.join(changed)}: a resend carries the "
                    "same fact; a correction is a new message with an id of its own",
                )
            # the sender resent it (its acknowledgement was late or lost): no effect, but
            # acknowledge it again, or it resends it for ever
            before.attempt = message.attempt
            if message.type not in REPLY_TYPES:
                await self._acknowledge(message)
            return Applied("resent")
        if before is not None:
            return Applied(
                "replayed",
                f"replayed: message {message.message_id} was "
                f"{'applied' if before.refusal is None else 'refused in its place'} already "
                f"(sequence {before.sequence}, received {before.received_at.isoformat()})",
            )
        last = await self._lock(message.sender, RECEIVED)
        if message.sequence != last + 1:
            what = "a gap" if message.sequence > last + 1 else "a regression"
            return Applied(
                "reordered",
                f"reordered: sequence {message.sequence} from {message.sender.value} after "
                f"{last} is {what} (expected {last + 1})",
            )
        self._counters[(message.sender.value, RECEIVED)] = message.sequence
        refusal = self._refusal(item)
        row = XborderInboxRow(
            message_id=message.message_id,
            sender=message.sender.value,
            sequence=message.sequence,
            message_type=message.type,
            crossing_id=message.crossing_id,
            key_id=item.key_id,
            event_time=message.event_time,
            received_at=self.now,
            # a refused payload is not kept (it may carry what the agreement does not let
            # cross); its dead letter has it
            payload="" if refusal is not None else item.payload.decode(),
            source=item.source,
            attempt=message.attempt,
            refusal=refusal,
        )
        self.session.add(row)
        seen[message.message_id] = row
        if refusal is not None:
            # signed by the sender, so it is its message number `sequence`: received, with
            # no effect, and acknowledged (an ack is not), so what follows it is applied and
            # the sender does not resend it for ever
            if message.type not in REPLY_TYPES:
                await self._acknowledge(message)
            return Applied("invalid", refusal)
        assert not isinstance(message, MessageHeader)  # a header comes with its refusal
        if isinstance(message, AckV1):
            acked.append(message.acked_message_id)
            return Applied("applied")
        if isinstance(message, RefusalV1):
            refused.append(message)  # not acknowledged: a reply, like an ack
            return Applied("applied")
        from_side = message.sender if not isinstance(message, EntryEventV1) else self.me
        _record(self._crossing(message.crossing_id, from_side), message)
        if self.prior is not None and isinstance(message, PreArrivalNoticeV1):
            await self.prior.apply(self.session, message, now=self.now)
        await self._acknowledge(message)
        return Applied("applied")

    def _refusal(self, item: Incoming) -> str | None:
        """Why `item`, in its place in its sender's sequence, is refused there, if it is."""
        message = item.message
        if item.refusal is not None:
            return item.refusal
        if isinstance(message, AckV1):
            return self._ack_refusal(message)
        if isinstance(message, RefusalV1):
            if message.refused_message_id in self._sent:
                return None
            return (
                f"invalid: refused_message_id {message.refused_message_id!r} is no message "
                f"{self.me.value} sent ({message.sender.value} refused it as {message.kind})"
            )
        if not isinstance(message, MessageHeader):
            return self._origin_refusal(message)
        return None

    async def _acknowledge(self, message: Header) -> None:
        """Queue the ack of `message` (of its transmission: a resend's ack has an id of
        its own, or the other side would refuse it as a replay of the first)."""
        ack = AckV1(
            message_id=ack_message_id(self.me, message.message_id, message.attempt),
            sender=self.me,
            sequence=await self._next_sequence(),
            event_time=message.event_time,
            crossing_id=message.crossing_id,
            acked_message_id=message.message_id,
            acked_sequence=message.sequence,
        )
        await self._store_outgoing(ack, None)


def ack_message_id(me: Side, acked_id: str, attempt: int) -> str:
    """The id of this side's ack of `acked_id` (of its transmission `attempt`):
    `VN:ack-<id>[-<attempt>]`, or `VN:ack-<sha256 of the id, 40 hex>[-<attempt>]` when that
    is longer than a message id may be (128): the other side's id may use all 128, and the
    ack built from it failed validation in the receiver's transaction, for ever."""
    suffix = "" if attempt == 1 else f"-{attempt}"
    plain = message_id_for(me, f"ack-{acked_id}{suffix}")
    if len(plain) <= MESSAGE_ID_MAX:
        return plain
    digest = hashlib.sha256(acked_id.encode()).hexdigest()[:40]
    return message_id_for(me, f"ack-{digest}{suffix}")


@dataclass(frozen=True, slots=True)
class Incoming:
    """A verified message of the other side, its key, its exact payload bytes, and the
    record it came in (`topic:partition:offset`); or, with `refusal`, only the header of a
    signed message that is not valid, and why."""

    message: Header
    key_id: str
    payload: bytes
    source: str | None = None
    refusal: str | None = None


async def take_local(
    session: AsyncSession, event: LocalCrossingEventV1, *, me: Side, sign: Signer, now: datetime
) -> str | None:
    """`Unit.take` of one event."""
    [crossing] = await Unit(session, me=me, sign=sign, now=now).take([event])
    return crossing


async def apply_received(
    session: AsyncSession,
    message: Header,
    *,
    key_id: str,
    payload: bytes,
    me: Side,
    sign: Signer,
    now: datetime,
    source: str | None = None,
    refusal: str | None = None,
) -> Applied:
    """`Unit.apply` of one message. `source` names the record it came in: the same record
    again (a consumer redelivering after a restart) is `redelivered`, a no-op; the same id
    in another record is `replayed`. `refusal`: why the signed message is not valid (its
    header only, in `message`)."""
    unit = Unit(session, me=me, sign=sign, now=now)
    [result] = await unit.apply([Incoming(message, key_id, payload, source, refusal)])
    await session.flush()
    return result


def _changed_fields(applied: str, resent: bytes) -> list[str]:
    """The fields in which a resend differs from the message applied under its id (none
    when either payload is not kept: a message refused in its place)."""
    if not applied or not resent:
        return []
    try:
        before = decode_message(applied.encode()).model_dump(mode="json", exclude={"attempt"})
        after = decode_message(resent).model_dump(mode="json", exclude={"attempt"})
    except InvalidEvent:  # not a payload of ours to compare (the tests' stand-ins)
        return []
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _record(row: XborderCrossingRow, message: XBorderMessage) -> None:
    """The message's fact on its crossing."""
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
    row.last_at, row.mismatch = derived(row)


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


def derived(row: Any) -> tuple[datetime | None, bool]:
    """What a crossing row keeps besides its facts, from them: its latest event time and
    whether it is a mismatch (`lanes.crossings.mismatch`). `row` is the ORM row or any
    object with its columns as attributes (the migration that added the two columns)."""
    crossing = crossing_of(row)
    times = [s.at for s in (crossing.notice, crossing.exit, crossing.entry) if s is not None]
    return max(times, default=None), mismatch(crossing) is not None


def crossing_of(row: XborderCrossingRow) -> Crossing:
    return Crossing(
        crossing_id=row.crossing_id,
        from_side=Side(row.from_side),
        notice=_sighting(row.notice_message_id, row.notice_at, row.notice_truck),
        exit=_sighting(row.exit_message_id, row.exit_at, row.exit_truck),
        entry=_sighting(row.entry_message_id, row.entry_at, row.entry_truck),
    )


async def all_crossings(session: AsyncSession) -> list[Crossing]:
    """Every crossing recorded (the demo's and the tests' summaries; the control room reads
    the bounded queries below)."""
    rows = (await session.scalars(select(XborderCrossingRow))).all()
    return [crossing_of(row) for row in rows]


async def gate_clock(session: AsyncSession) -> datetime | None:
    """The clock alerts are reckoned at: `lanes.crossings.crossings_clock` of the crossings'
    latest event times (the second latest; one crossing dated wrong cannot move it), read
    by index."""
    row = XborderCrossingRow
    latest = await session.scalars(
        select(row.last_at)
        .where(row.last_at.is_not(None))
        .order_by(row.last_at.desc())
        .limit(CLOCK_WITNESSES)
    )
    return crossings_clock(at for at in latest.all() if at is not None)


async def alert_candidates(session: AsyncSession) -> list[Crossing]:
    """The crossings that can carry an alert: left and not entered (overdue, once the
    corridor's time is up) or entered with a mismatch. Not the history: a crossing entered
    as announced never raises one again."""
    row = XborderCrossingRow
    rows = await session.scalars(
        select(row).where(
            or_(
                and_(row.entry_at.is_(None), row.exit_at.is_not(None)),
                row.mismatch.is_(True),
            )
        )
    )
    return [crossing_of(r) for r in rows.all()]


async def clock_of_alerts(
    session: AsyncSession, *, expected_transit: timedelta | None = None
) -> AlertsClock | None:
    """The clock the alerts are reckoned at (`lanes.crossing_clocks`): the two sides' skew
    estimated from the latest crossings each way (or one way, given the corridor's
    `expected_transit`), and with none, `gate_clock`; with one,
    the second latest crossing time on VN's clock, of the crossings within the skew of
    `gate_clock` (no other can be among the two latest once moved by it). By index."""
    row = XborderCrossingRow
    pairs = []
    for side, by in ((Side.VN, row.exit_at), (Side.CN, row.entry_at)):
        found = await session.scalars(
            select(row)
            .where(row.from_side == side.value, row.exit_at.is_not(None))
            .where(row.entry_at.is_not(None))
            .order_by(by.desc())
            .limit(SKEW_WINDOW)
        )
        pairs += [crossing_of(r) for r in found.all()]
    skew = estimate_skew(pairs, expected_transit=expected_transit)
    stamped = await gate_clock(session)
    if stamped is None or skew is None:
        return None if stamped is None else AlertsClock(stamped)
    near = await session.scalars(select(row).where(row.last_at >= stamped - abs(skew.offset)))
    return alerts_clock([crossing_of(r) for r in near.all()], skew)


async def dated_ahead(
    session: AsyncSession, *, clock: datetime, slack: timedelta = timedelta(0)
) -> list[Crossing]:
    """The crossings with a fact dated more than DATED_AHEAD_AFTER after the gate clock
    (they carry a `dated_ahead` alert), read by index; `slack`: the two sides' skew, a
    fact being judged on its own side's clock."""
    row = XborderCrossingRow
    bound = clock + DATED_AHEAD_AFTER - slack
    rows = await session.scalars(select(row).where(row.last_at > bound))
    return [crossing_of(r) for r in rows.all()]


async def newest_crossings(session: AsyncSession, *, limit: int) -> list[Crossing]:
    """The `limit` crossings with the latest events, newest first."""
    rows = await session.scalars(
        select(XborderCrossingRow)
        .where(XborderCrossingRow.last_at.is_not(None))
        .order_by(XborderCrossingRow.last_at.desc(), XborderCrossingRow.crossing_id)
        .limit(limit)
    )
    return [crossing_of(r) for r in rows.all()]


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


async def rewind_unacknowledged(
    session: AsyncSession,
    *,
    sent_before: datetime,
    sign: Signer,
    peer_resent_from: int | None = None,
) -> int | None:
    """Resend what the other side may lack, each message signed anew with its next
    `attempt` and marked unsent, to be resent in order. The other side applies a sender's
    messages in sequence only, so it holds every message up to one it acknowledged, and
    lacks at most what follows; the receiver applies each id once (a resent message it had
    applied is acknowledged again and has no other effect). Two windows:

    - a message sent before `sent_before` and not acknowledged was lost on the way (the
      other side's broker lost what it had taken, or the receiver refused what followed a
      lost one as reordered), or its acknowledgement was: the messages after the last
      acknowledged one up to the last such message. The acks that follow it are not
      (nothing acknowledges an ack: until 2026-12-06 one notice not acknowledged in time
      was resent with every ack sent since, about 2,000 in the case reported);
    - the other side resent its messages from its sequence `peer_resent_from` (its
      go-back-N: it holds no ack of ours for them, as far as it knows): every ack of ours
      it may lack, from the one after our ack of its message before (which it had, as it
      resent nothing before) to our last (a message of ours among them not acknowledged
      goes in the first window once overdue: sent sooner it would bring only a second
      ack).

    The first sequence to resend, or None."""
    out = XborderOutboxRow
    acked = await session.scalar(select(func.max(out.sequence)).where(out.acked_at.is_not(None)))
    held = int(acked or 0)  # the other side holds all of ours up to it
    late = (
        await session.execute(
            select(func.max(out.sequence)).where(
                out.sequence > held,
                out.sent_at.is_not(None),
                out.sent_at < sent_before,
                out.acked_at.is_(None),
                out.message_type.not_in(REPLY_TYPES),
            )
        )
    ).scalar_one_or_none()
    # (first, last, acks only)
    windows = [(held + 1, int(late), False)] if late is not None else []
    if peer_resent_from is not None:
        had = await _our_ack_of(session, before=peer_resent_from)
        last = await session.scalar(select(func.max(out.sequence)).where(out.sent_at.is_not(None)))
        if last is not None:
            windows.append((max(held, had) + 1, int(last), True))
    if not windows:
        return None
    first, last_one = min(w[0] for w in windows), max(w[1] for w in windows)
    rows = await session.scalars(
        select(out).where(out.sequence >= first, out.sequence <= last_one, out.sent_at.is_not(None))
    )
    resent = None
    for row in rows:
        is_ack = row.message_type in REPLY_TYPES  # a reply: resent with the acks
        if not any(lo <= row.sequence <= hi and (is_ack or not acks) for lo, hi, acks in windows):
            continue
        message = decode_message(signed_payload(row.envelope.encode()))
        row.envelope = sign(message.model_copy(update={"attempt": message.attempt + 1})).decode()
        row.sent_at = None
        resent = row.sequence if resent is None else min(resent, row.sequence)
    return resent


async def _our_ack_of(session: AsyncSession, *, before: int) -> int:
    """The sequence of our first ack of the other side's latest message (not an ack) before
    its sequence `before`; 0 when there is none."""
    inbox = XborderInboxRow
    theirs = (
        await session.execute(
            select(inbox.message_id, inbox.sender, inbox.attempt)
            .where(inbox.sequence < before, inbox.message_type.not_in(REPLY_TYPES))
            .order_by(inbox.sequence.desc())
            .limit(1)
        )
    ).first()
    if theirs is None:
        return 0
    me = Side(theirs.sender).other
    ids = [ack_message_id(me, theirs.message_id, a) for a in range(1, theirs.attempt + 1)]
    ours = await session.scalar(
        select(func.min(XborderOutboxRow.sequence)).where(XborderOutboxRow.message_id.in_(ids))
    )
    return int(ours or 0)


async def peer_refusals(
    session: AsyncSession, *, limit: int
) -> tuple[int, Sequence[XborderOutboxRow]]:
    """How many of this side's messages the other side refused and said so, and the latest
    `limit` of them (by when the refusal came), newest first; by index."""
    out = XborderOutboxRow
    total = await session.scalar(
        select(func.count()).select_from(out).where(out.peer_refused_at.is_not(None))
    )
    rows = await session.scalars(
        select(out)
        .where(out.peer_refused_at.is_not(None))
        .order_by(out.peer_refused_at.desc(), out.sequence.desc())
        .limit(limit)
    )
    return int(total or 0), rows.all()


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
            XborderOutboxRow.message_type.not_in(REPLY_TYPES),
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
