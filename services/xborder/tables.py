"""The exchange's rows (migration 0014): what this side sent, what it received and applied,
the sequence counters, and the crossings both sides' messages describe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from services.db.tables import Base


class XborderOutboxRow(Base):
    """A signed message of this side, stored before it is sent (store and forward): sent
    in `sequence` order, `sent_at` once the other side's broker took it, `acked_at` once
    the other side acknowledged applying it."""

    __tablename__ = "xborder_outbox"
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[str] = mapped_column(String(160), unique=True)
    # this side's local event id (None for an ack): a redelivered local event is not re-sent
    source_event_id: Mapped[str | None] = mapped_column(String(160), unique=True)
    message_type: Mapped[str] = mapped_column(String(64))
    crossing_id: Mapped[str] = mapped_column(String(160))
    envelope: Mapped[str] = mapped_column(Text)  # the signed bytes, as sent
    event_time: Mapped[datetime]
    created_at: Mapped[datetime]  # wall clock (operations: the link's lag)
    sent_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    # the other side refused it and said so (its `refusal` message, migration 0027): when
    # that came (wall clock), the kind and the reason; the latest refusal if several
    peer_refused_at: Mapped[datetime | None]
    peer_refused_kind: Mapped[str | None] = mapped_column(String(32))
    peer_refusal: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_xborder_outbox_unsent", "sent_at", "sequence"),
        Index("ix_xborder_outbox_peer_refused", "peer_refused_at"),
    )


class XborderInboxRow(Base):
    """A message of the other side applied here (or, with `refusal`, received and refused
    as not valid): its id is the exactly-once key; written in the transaction of its
    effect."""

    __tablename__ = "xborder_inbox"
    message_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    sender: Mapped[str] = mapped_column(String(8))
    sequence: Mapped[int] = mapped_column(BigInteger)
    message_type: Mapped[str] = mapped_column(String(64))
    crossing_id: Mapped[str] = mapped_column(String(160))
    key_id: Mapped[str] = mapped_column(String(64))
    event_time: Mapped[datetime]
    received_at: Mapped[datetime]  # wall clock
    payload: Mapped[str] = mapped_column(Text)  # the verified payload, as signed
    # the record it came in (topic, partition, offset): the same record again is a consumer's
    # redelivery after a restart, another record with this id is a replay
    source: Mapped[str | None] = mapped_column(String(300))
    # the highest transmission of it seen (the sender's resends count up, signed)
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")
    # why a signed message that is not valid was refused (it took its place in the sequence
    # with no effect, acknowledged; payload not kept); None: applied (migration 0019)
    refusal: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ux_xborder_inbox_sender_seq", "sender", "sequence", unique=True),)


class XborderRefusalRow(Base):
    """A record of the other side's topic that the receiver refused, of any kind (invalid,
    replayed, reordered, unsigned, unknown_key, bad_signature), with the reason: what the
    control room shows (`GET /v1/xborder/state`, `refused`) besides the dead letter, which
    keeps the record itself (migration 0024). Written in the receiver's transaction; the
    same record with the same reason again (a redelivery) is not written twice."""

    __tablename__ = "xborder_refusals"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    received_at: Mapped[datetime]  # wall clock
    kind: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(8))
    # what the message says it is, when that could be read (not for an unsigned record)
    message_id: Mapped[str | None] = mapped_column(String(160))
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    message_type: Mapped[str | None] = mapped_column(String(64))
    crossing_id: Mapped[str | None] = mapped_column(String(160))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))  # topic:partition:offset
    # the sender was sent an ack of it (an invalid message in its place, not an ack); null
    # on rows before migration 0025 (refusals.acknowledged's rule then)
    acknowledged: Mapped[bool | None]

    __table_args__ = (Index("ix_xborder_refusals_source", "source"),)


class XborderSequenceRow(Base):
    """Per side: the last sequence number this side sent (`role` 'sent', its own side) or
    applied from the other side ('received')."""

    __tablename__ = "xborder_sequences"
    side: Mapped[str] = mapped_column(String(8), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class XborderCrossingRow(Base):
    """One truck's crossing as this side knows it: the notice and exit of the side it left,
    the entry of the side it reached, whichever side each came from."""

    __tablename__ = "xborder_crossings"
    crossing_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    from_side: Mapped[str] = mapped_column(String(8))
    from_gate: Mapped[str | None] = mapped_column(String(64))
    to_gate: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[str | None] = mapped_column(String(16))
    notice_message_id: Mapped[str | None] = mapped_column(String(160))
    notice_at: Mapped[datetime | None]
    notice_truck: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    booked_slot_start: Mapped[datetime | None]
    booked_slot_end: Mapped[datetime | None]
    exit_message_id: Mapped[str | None] = mapped_column(String(160))
    exit_at: Mapped[datetime | None]
    exit_mode: Mapped[str | None] = mapped_column(String(32))
    exit_truck: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    entry_message_id: Mapped[str | None] = mapped_column(String(160))
    entry_at: Mapped[datetime | None]
    entry_truck: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # derived from the facts above when one is recorded (store.derived): the latest event
    # time, and whether the entry differs from what was announced
    last_at: Mapped[datetime | None]
    mismatch: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (
        Index("ix_xborder_crossings_open", "from_side", "entry_at"),
        Index("ix_xborder_crossings_left", "from_side", "exit_at"),  # the clocks' estimate
        Index("ix_xborder_crossings_last_at", "last_at"),
        Index("ix_xborder_crossings_mismatch", "mismatch"),
    )


class XborderAlertAckRow(Base):
    """A controller acknowledged a cross-border alert (audited in the same transaction)."""

    __tablename__ = "xborder_alert_acks"
    alert_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    acknowledged_by: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime]  # wall clock (operations)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
