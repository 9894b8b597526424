"""Rows of the control room (issue 6): controller accounts, their sessions and the
append-only, hash-chained audit log of what they did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.db.tables import Base


class ControllerRow(Base):
    """A control-room account; the password is stored as its scrypt hash only."""

    __tablename__ = "controllers"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # viewer, controller
    password_hash: Mapped[str] = mapped_column(String(256))  # scrypt$n$r$p$salt$hash
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class ControllerSessionRow(Base):
    """A logged-in browser: the cookie's SHA-256 (never the cookie) and its CSRF token."""

    __tablename__ = "controller_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("controllers.username"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditRow(Base):
    """One controller action. `hash` is the SHA-256 of the entry's canonical JSON, which
    includes `prev_hash`, the previous entry's hash: editing or deleting an entry breaks
    the chain at that entry. Looked up by what an entry is about: the hold that made a
    review item's decision, a lane's change not applied yet (`ix_audit_log_gate_target`)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_gate_target", "gate_id", "target", "action", "at"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    gate_id: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
