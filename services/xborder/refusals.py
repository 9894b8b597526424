"""The other side's records this side refused, kept where the control room reads them
(`xborder_refusals`, migration 0024) as well as in the inbound topic's dead letter: until
2026-12-06 the dead letter alone had them, so the operators of the receiving side had to
read Kafka to learn what the other side sent and what was wrong with it.

Written by the receiver in the transaction of the batch they came in (a consumer that
restarts before committing reads the batch again: the same record refused the same way is
not written twice)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.xborder.tables import XborderRefusalRow
from streams.xborder import (
    REASON_MAX,
    REFUSAL_TYPE,
    REPLY_TYPES,
    Legible,
    MessageHeader,
    XBorderMessage,
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """One refused record: its kind (`dlq.error.type`), the reason (`dlq.error`), the
    record (`topic:partition:offset`) and, as far as it could be read, the message it says
    it is."""

    kind: str
    reason: str
    source: str
    sender: str
    message: XBorderMessage | MessageHeader | Legible | None = None
    acknowledged: bool = False  # an invalid message in its place (not an ack)


@dataclass(frozen=True, slots=True)
class Reply:
    """The refusal to send back to the other side (a `RefusalV1`, numbered and signed by
    the store): the message id the refused record named, its sequence, event time and
    crossing when they could be read, the kind and the reason."""

    refused_message_id: str
    refused_sequence: int | None
    kind: str
    reason: str
    event_time: datetime | None
    crossing_id: str | None


def reply_to(refusal: Refusal) -> Reply | None:
    """What to tell the sender of a refused record, or None: a record that names no message
    id that can be read (nothing to name), or one that is (or says it is) itself a refusal:
    a refusal is never answered with a refusal, so two sides cannot refuse each other's
    refusals for ever. Every kind is answered, a record not verified too: the sender of the
    id learns that a record in its name was refused (a key it rotated in the wrong order, a
    forger), and a reply names only what the record said."""
    message = refusal.message
    if message is None or message.message_id is None or message.type == REFUSAL_TYPE:
        return None
    return Reply(
        refused_message_id=message.message_id,
        refused_sequence=message.sequence,
        kind=refusal.kind,
        reason=refusal.reason[:REASON_MAX],
        event_time=message.event_time,
        crossing_id=message.crossing_id,
    )


def acknowledged(row: XborderRefusalRow) -> bool:
    """Whether the sender was sent an ack of a refused record: an invalid message (not an
    ack) in its place in the sequence is acknowledged; the others are not. Kept on the row
    since migration 0025 (an invalid record with no place may now have a type); the rows
    before keep no type for a record with no place."""
    if row.acknowledged is not None:
        return row.acknowledged
    return row.kind == "invalid" and row.message_type not in (None, *REPLY_TYPES)


# the refusals kept (the latest): a flood of forged records, each refused and kept, would
# otherwise grow the table for ever; the dead letters keep them all
KEPT = 10_000


async def record(
    session: AsyncSession, refusals: Sequence[Refusal], *, now: datetime, keep: int = KEPT
) -> list[Refusal]:
    """Keep `refusals`, but not one whose record was refused so already (a redelivery),
    and only the latest `keep` of all. The refusals new here (those to reply to)."""
    if not refusals:
        return []
    row = XborderRefusalRow
    found = await session.execute(
        select(row.source, row.reason).where(row.source.in_({r.source for r in refusals}))
    )
    kept = {(source, reason) for source, reason in found.all()}
    new: list[Refusal] = []
    for refusal in refusals:
        if (refusal.source, refusal.reason) in kept:
            continue
        kept.add((refusal.source, refusal.reason))
        new.append(refusal)
        message = refusal.message
        session.add(
            XborderRefusalRow(
                received_at=now,
                kind=refusal.kind,
                sender=refusal.sender,
                message_id=message.message_id if message else None,
                sequence=message.sequence if message else None,
                message_type=message.type if message else None,
                crossing_id=message.crossing_id if message else None,
                reason=refusal.reason,
                source=refusal.source,
                acknowledged=refusal.acknowledged,
            )
        )
    await session.flush()
    newest = await session.scalar(select(func.max(row.id)))
    if newest is not None and newest > keep:
        await session.execute(delete(row).where(row.id <= newest - keep))
    return new


async def latest(session: AsyncSession, *, limit: int) -> tuple[int, list[XborderRefusalRow]]:
    """How many refusals are kept, and the latest `limit`, newest first."""
    row = XborderRefusalRow
    total = await session.scalar(select(func.count()).select_from(row))
    rows = await session.scalars(select(row).order_by(row.id.desc()).limit(limit))
    return int(total or 0), list(rows.all())
