"""The audit log: append-only and tamper-evident.

Each entry's `hash` is the SHA-256 of its canonical JSON (sorted keys, no spaces, times in
UTC ISO 8601), which holds `seq` and `prev_hash`, the previous entry's hash (64 zeros for
the first). Editing an entry changes its hash; deleting one leaves a gap in `seq` and a
`prev_hash` that no longer fits: `verify_chain` names the first entry where either shows.
Removing the newest entries leaves a valid, shorter chain: `head` (seq and hash of the last
entry) is what to note elsewhere to detect that too.

Appends are serialised: the caller's transaction holds the write lock (SQLite:
BEGIN IMMEDIATE, `repository.begin_write`), and on PostgreSQL a transaction-scoped advisory
lock orders writers across gates and processes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.control_tables import AuditRow
from services.db.repository import is_postgres

GENESIS = "0" * 64
_LOCK_ID = 0x61756474  # "audt"


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    problem: str = ""


def entry_fields(row: AuditRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": _utc(row.at),
        "actor": row.actor,
        "action": row.action,
        "gate_id": row.gate_id,
        "target": row.target,
        "reason": row.reason,
        "details": row.details,
        "prev_hash": row.prev_hash,
    }


def _utc(at: datetime) -> str:
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


async def append_entry(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    gate_id: str,
    target: str,
    reason: str,
    details: Mapping[str, Any],
    at: datetime,
) -> AuditRow:
    """Add an entry at the end of the chain, in the caller's transaction."""
    if is_postgres(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    last = await session.scalar(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1))
    row = AuditRow(
        seq=1 if last is None else last.seq + 1,
        at=at,
        actor=actor,
        action=action,
        gate_id=gate_id,
        target=target,
        reason=reason,
        details=json.loads(json.dumps(dict(details), default=str)),
        prev_hash=GENESIS if last is None else last.hash,
    )
    row.hash = entry_hash(entry_fields(row))
    session.add(row)
    await session.flush()
    return row


async def entries(*, session: AsyncSession, batch: int = 1000) -> AsyncIterator[AuditRow]:
    """Every entry in `seq` order, a batch at a time."""
    after = 0
    while True:
        rows = (
            await session.scalars(
                select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(batch)
            )
        ).all()
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1].seq


async def verify_chain(*, session: AsyncSession) -> Verdict:
    prev_seq, prev_hash, count = 0, GENESIS, 0
    async for row in entries(session=session):
        count += 1
        if row.seq != prev_seq + 1:
            return Verdict(
                False,
                count,
                prev_seq,
                prev_hash,
                row.seq,
                f"entry {row.seq}: follows entry {prev_seq}; entries "
                f"{prev_seq + 1}..{row.seq - 1} are missing",
            )
        if row.prev_hash != prev_hash:
            return Verdict(
                False,
                count,
                prev_seq,
                prev_hash,
                row.seq,
                f"entry {row.seq}: prev_hash {row.prev_hash[:12]}... is not the hash of "
                f"entry {prev_seq} ({prev_hash[:12]}...)",
            )
        actual = entry_hash(entry_fields(row))
        if actual != row.hash:
            return Verdict(
                False,
                count,
                prev_seq,
                prev_hash,
                row.seq,
                f"entry {row.seq}: content does not match its hash (edited after it was "
                f"written: recorded {row.hash[:12]}..., computed {actual[:12]}...)",
            )
        prev_seq, prev_hash = row.seq, row.hash
    return Verdict(True, count, prev_seq, prev_hash)


async def made_by(
    *, session: AsyncSession, gate_id: str, action: str, decisions: Mapping[str, str]
) -> dict[str, AuditRow]:
    """The entry of the `action` that made each decision of `decisions` (visit id: decision
    id), by the decision it recorded after it; a visit whose decision another made is left
    out."""
    if not decisions:
        return {}
    rows = await session.scalars(
        select(AuditRow).where(
            AuditRow.gate_id == gate_id,
            AuditRow.action == action,
            AuditRow.target.in_(sorted(decisions)),
        )
    )
    return {
        row.target: row
        for row in rows
        if (row.details.get("after") or {}).get("decision_id") == decisions[row.target]
    }


async def entry_count(*, session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditRow)) or 0)


def export_line(row: AuditRow) -> str:
    """One JSONL line: the hashed fields plus the hash (re-verifiable from the file alone)."""
    return json.dumps(entry_fields(row) | {"hash": row.hash}, sort_keys=True, ensure_ascii=False)
