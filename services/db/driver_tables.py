"""ORM rows of the drivers' pages (issue 23): one row a page, by its unguessable token,
keyed by what it follows (`booking:<id>` for a booked truck, else the visit id); the
API serves the page from here and its stream polls `version`, so every API replica and a
restarted one show what the call-forward worker last wrote."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db.tables import Base


class DriverPageRow(Base):
    __tablename__ = "driver_pages"
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    page_key: Mapped[str] = mapped_column(String(160), unique=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    state: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]  # wall clock: an operation, not a decision
    # the truck it follows now (set by the call-forward worker): the notifier's way in
    visit_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # the language the driver last chose for it (?lang=, kept by the phone): the SMS's
    language: Mapped[str | None] = mapped_column(String(8))
    # the driver's mobile (E.164), given with the booking: where the call's SMS goes
    phone: Mapped[str | None] = mapped_column(String(16))


class FirmSettingsRow(Base):
    """A firm's call settings (issue 23): where its calls are POSTed (None: nowhere)."""

    __tablename__ = "firm_settings"
    firm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime]
