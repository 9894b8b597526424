"""Rows of the risk alerts (issue 22): the alerts the decider's alert step raised, with the
controllers' workflow status, and the weigh-in-motion measures the overweight rule reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.db.tables import Base


class AlertRow(Base):
    """One alert per (rule, subject): `alert_id` is derived from both (`lanes.alerts`), so
    the same finding again is the same row. `raised_at` is event time; `status` open,
    acknowledged, escalated or dismissed (dismissed is closed); `published_at` NULL: still
    to go out on `borderflow.alerts`."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_gate_raised", "gate_id", "raised_at"),
        Index("ix_alerts_unpublished", "published_at"),
        Index("ix_alerts_gate_subject", "gate_id", "subject"),  # open holds about a truck
    )
    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    gate_id: Mapped[str | None] = mapped_column(String(64))
    raised_at: Mapped[datetime]
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON)
    hold: Mapped[bool] = mapped_column(Boolean)
    held_visit_id: Mapped[str | None] = mapped_column(String(64))  # the truck held, if any
    # the controller who released the held truck, at the gate's event time, and why (0023)
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(Text)
    # how it was released: "released" (placed) or "turned_away" (0026; null before: released)
    released_as: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    status_by: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_at: Mapped[datetime | None]  # wall clock (operations)
    created_at: Mapped[datetime]  # wall clock (operations)
    published_at: Mapped[datetime | None]


class WeighingRow(Base):
    """A weigh-in-motion measure (`streams.weigh.WeighInMotionV1`, payload as received)."""

    __tablename__ = "weighings"
    __table_args__ = (Index("ix_weighings_gate_at", "gate_id", "captured_at"),)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    gate_id: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime]
    plate: Mapped[str] = mapped_column(String(32))
    gross_weight_kg: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]  # wall clock (operations)
