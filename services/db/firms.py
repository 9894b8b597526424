"""Logistics firms and their API keys. A key is shown once, when issued; only its prefix
(to find it) and its SHA-256 (to check it) are kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.repository import _insert
from services.db.tables import ApiKeyRow, FirmRow

KEY_PREFIX = "bf_"
PREFIX_LENGTH = 12  # "bf_" and 9 random characters: enough to find a key, useless alone


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new API key: `key` is the plaintext, never stored and never shown again."""

    firm_id: str
    key: str
    prefix: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class FirmInfo:
    firm_id: str
    name: str
    created_at: datetime
    keys: tuple[KeyInfo, ...]


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """The firm a presented key belongs to; `revoked_at` set when it no longer works."""

    firm_id: str
    prefix: str
    revoked_at: datetime | None


def key_hash(key: str) -> str:
    # 32 random bytes leave nothing to brute-force: a fast hash is right (no bcrypt/argon2).
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class FirmExistsError(Exception):
    """`firms create` with an id that is taken."""


async def _issue_key(*, session: AsyncSession, firm_id: str, now: datetime) -> IssuedKey:
    key = new_key()
    prefix = key[:PREFIX_LENGTH]
    await session.execute(
        _insert(session, ApiKeyRow).values(
            key_id=uuid.uuid4().hex,
            firm_id=firm_id,
            prefix=prefix,
            key_hash=key_hash(key),
            created_at=now,
            revoked_at=None,
        )
    )
    return IssuedKey(firm_id=firm_id, key=key, prefix=prefix)


async def create_firm(
    *, session: AsyncSession, firm_id: str, name: str, now: datetime
) -> IssuedKey:
    """Register a firm with its first key; FirmExistsError if the id is taken."""
    created = await session.scalar(
        _insert(session, FirmRow)
        .values(firm_id=firm_id, name=name, created_at=now)
        .on_conflict_do_nothing(index_elements=["firm_id"])
        .returning(FirmRow.firm_id)
    )
    if created is None:
        raise FirmExistsError(f"firm {firm_id!r} already exists")
    return await _issue_key(session=session, firm_id=firm_id, now=now)


async def rotate_key(*, session: AsyncSession, firm_id: str, now: datetime) -> IssuedKey | None:
    """A new key for the firm (None if there is no such firm); its old keys keep working
    until revoked, so clients can switch over without downtime."""
    if await session.get(FirmRow, firm_id) is None:
        return None
    return await _issue_key(session=session, firm_id=firm_id, now=now)


async def revoke_key(*, session: AsyncSession, prefix: str, now: datetime) -> str | None:
    """Revoke the key with this prefix; returns its firm, or None if no live key has it."""
    firm_id: str | None = await session.scalar(
        update(ApiKeyRow)
        .where(ApiKeyRow.prefix == prefix, ApiKeyRow.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiKeyRow.firm_id)
    )
    return firm_id


async def list_firms(*, session: AsyncSession) -> list[FirmInfo]:
    firms = (await session.scalars(select(FirmRow).order_by(FirmRow.firm_id))).all()
    keys = (await session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))).all()
    by_firm: dict[str, list[KeyInfo]] = {}
    for k in keys:
        by_firm.setdefault(k.firm_id, []).append(KeyInfo(k.prefix, k.created_at, k.revoked_at))
    return [
        FirmInfo(f.firm_id, f.name, f.created_at, tuple(by_firm.get(f.firm_id, ()))) for f in firms
    ]


async def lookup_key(*, session: AsyncSession, key: str) -> KeyMatch | None:
    """The firm of a presented key, revoked or not; None for a key that is not ours."""
    if not key.startswith(KEY_PREFIX) or len(key) <= PREFIX_LENGTH:
        return None
    row = (
        await session.execute(
            select(
                ApiKeyRow.firm_id, ApiKeyRow.prefix, ApiKeyRow.key_hash, ApiKeyRow.revoked_at
            ).where(ApiKeyRow.prefix == key[:PREFIX_LENGTH])
        )
    ).first()
    if row is None or not hmac.compare_digest(row.key_hash, key_hash(key)):
        return None
    return KeyMatch(firm_id=row.firm_id, prefix=row.prefix, revoked_at=row.revoked_at)


async def firm_for_key(*, session: AsyncSession, key: str) -> str | None:
    """The firm a live (unrevoked) key belongs to, or None."""
    match = await lookup_key(session=session, key=key)
    return None if match is None or match.revoked_at is not None else match.firm_id
