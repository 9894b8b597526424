"""ORM rows (persistence only: API and wire schemas live elsewhere)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.db.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012


class GateRow(Base):
    """One row per gate; workers lock it (PostgreSQL) to serialise a gate's decisions."""

    __tablename__ = "gates"
    gate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class LaneRow(Base):
    __tablename__ = "lanes"
    lane_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gate_id: Mapped[str] = mapped_column(ForeignKey("gates.gate_id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    service_seconds: Mapped[int] = mapped_column(Integer)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    free_at: Mapped[datetime | None]


class ManifestRow(Base):
    __tablename__ = "manifests"
    manifest_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    firm_id: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    tractor_plate: Mapped[str] = mapped_column(String(32), index=True)
    trailer_plate: Mapped[str | None] = mapped_column(String(32))
    containers: Mapped[list[str]] = mapped_column(JSON, default=list)
    cargo_description: Mapped[str] = mapped_column(Text, default="")
    perishable: Mapped[bool] = mapped_column(Boolean, default=False)
    hazmat_class: Mapped[str | None] = mapped_column(String(16))
    customs_status: Mapped[str] = mapped_column(String(16))
    customs_channel: Mapped[str | None] = mapped_column(String(8))  # green, yellow, red
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    hs_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    gross_weight_kg: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(16))  # http, import, topic, simulator
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ManifestVersionRow(Base):
    """Append-only history: every version of every manifest, in its intake (JSON) form."""

    __tablename__ = "manifest_versions"
    manifest_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]  # wall clock: when it was stored (operations only)
    # the system's event-time clock when it was stored (the newest read decided by then;
    # None: none yet, it counts from the start): when the risk alerts' rules count it from
    # (migration 0029; services.db.manifests.event_clock)
    clock_at: Mapped[datetime | None]
    # the order versions were committed in (services.db.manifests.next_version_seq): what a
    # decision batch knew is "every version up to its `manifest_seq`", no clock involved
    seq: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ux_manifest_versions_seq", "seq", unique=True),)


class ManifestPlateKeyRow(Base):
    """The matcher's candidate index: `lanes.similarity.index_keys` of each manifest's
    tractor and trailer plates, replaced whenever the plates change."""

    __tablename__ = "manifest_plate_keys"
    key: Mapped[str] = mapped_column(String(24), primary_key=True)
    manifest_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(8), primary_key=True)  # tractor, trailer


class MetaRow(Base):
    """Facts about the stored data that code must check, e.g. the plate-key scheme."""

    __tablename__ = "borderflow_meta"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class FirmRow(Base):
    __tablename__ = "firms"
    firm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    """A firm's API key: only a hash is kept. The keys are 32 random bytes, so a fast hash
    (SHA-256) is right: there is no low-entropy secret for a slow hash to protect."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    firm_id: Mapped[str] = mapped_column(ForeignKey("firms.firm_id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))  # SHA-256, hex
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class PlateReadRow(Base):
    __tablename__ = "plate_reads"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    gate_id: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime]
    plate_text: Mapped[str] = mapped_column(String(32))
    plate: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    visit_id: Mapped[str] = mapped_column(String(64), index=True)
    source_topic: Mapped[str] = mapped_column(String(255))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime]

    # the alert step's reads of a gate within its look-back (migration 0016)
    __table_args__ = (Index("ix_plate_reads_gate_captured", "gate_id", "captured_at"),)


class VisitRow(Base):
    __tablename__ = "visits"
    visit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gate_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))
    plate: Mapped[str] = mapped_column(String(32))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    read_count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_visits_gate_last_seen", "gate_id", "last_seen_at"),)


class PlateTrackRow(Base):
    """The latest visit of each plate at each gate: the state of visit grouping."""

    __tablename__ = "plate_tracks"
    gate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plate: Mapped[str] = mapped_column(String(32), primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    read_count: Mapped[int] = mapped_column(Integer)


class DecisionRow(Base):
    """A lane decision; `published_at` NULL means still in the outbox."""

    __tablename__ = "lane_decisions"
    decision_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(64), unique=True)
    gate_id: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str] = mapped_column(String(32))
    manifest_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    match_outcome: Mapped[str] = mapped_column(String(16))
    match_score: Mapped[float] = mapped_column(Float)
    # [{manifest_id, plate, score, closest_read}], best first: the review evidence
    match_candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    lane_id: Mapped[str | None] = mapped_column(String(64))
    carrier_slot: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime]
    expected_start_at: Mapped[datetime | None]
    expected_done_at: Mapped[datetime | None]
    read_event_ids: Mapped[list[str]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # re-plans of the visit
    published_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_decisions_gate_done", "gate_id", "expected_done_at"),
        Index("ix_decisions_unpublished", "published_at"),
        Index("ix_decisions_gate_decided", "gate_id", "decided_at"),
        # the latest decision about a plate or a manifest (a holding alert; migration 0016)
        Index("ix_decisions_gate_plate", "gate_id", "plate", "decided_at"),
        Index("ix_decisions_gate_manifest", "gate_id", "manifest_id", "decided_at"),
    )
