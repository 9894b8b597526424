"""ORM rows of the calls (issue 23): the call-forward worker's outbox (`call_events`: each
call event written in the batch's transaction, published after it commits), its queues and
the called places; and the notifier's rows (`call_notifications`: one row a call, by call
id, written when the call event is consumed and marked when the notifier took it; the call
id is the key that keeps a call from being sent twice)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.db.tables import Base


class CallNotificationRow(Base):
    __tablename__ = "call_notifications"
    __table_args__ = (Index("ix_call_notifications_due", "delivered_at", "next_attempt_at"),)
    call_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(128))
    gate_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]  # the call event's data (CallEventV1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]  # wall clock: retries are operations, not decisions
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # the channels that took the call while another is retried (comma separated; 0021)
    sent: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class CallEventRow(Base):
    """The calls' outbox (migration 0022): each call, recall and lost place the call-forward
    worker decided, written in its batch's transaction with `published_at` NULL, published
    on `borderflow.calls` after that transaction commits (oldest `seq` first), then marked;
    a published row is purged after `services.adapters.call_outbox.PUBLISHED_KEEP`."""

    __tablename__ = "call_events"
    __table_args__ = (Index("ix_call_events_unpublished", "published_at", "seq"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(160), unique=True)
    visit_id: Mapped[str] = mapped_column(String(128))  # the record's key
    payload: Mapped[dict[str, Any]]  # the call event's data (CallEventV1), as published
    created_at: Mapped[datetime]  # wall clock (operations only)
    published_at: Mapped[datetime | None]


class CallForwardQueueRow(Base):
    """The call-forward worker's queue of a gate (its snapshot after each batch) and the
    event time it was stepped to: what a restarted worker resumes from."""

    __tablename__ = "callforward_queues"
    gate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    snapshot: Mapped[dict[str, Any]]
    event_time: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class CalledPlaceRow(Base):
    """A truck's latest call (issue 23), by gate and manifest, as call-forward made it: the
    gate's decider sends the truck where it was called (`lanes.policy.callforward`
    `assign_called`). Written by the call-forward worker with its queue; a call whose truck
    reached the gate is kept (`arrived`) until its deadline is an hour behind the queue's
    event time (the decider may take the gate's read after call-forward did); a call
    withdrawn (the place lost, the lane closed) is deleted."""

    __tablename__ = "called_places"
    __table_args__ = (Index("ix_called_places_deadline", "gate_id", "deadline"),)
    gate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    manifest_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(160))
    lane_id: Mapped[str] = mapped_column(String(64))
    called_at: Mapped[datetime]
    deadline: Mapped[datetime]
    arrived: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]  # wall clock (operations only)
