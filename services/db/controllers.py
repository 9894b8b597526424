"""Controller accounts and their browser sessions.

Passwords are hashed with scrypt (stdlib `hashlib.scrypt`, a memory-hard KDF) under a
per-user random salt; a session cookie is a random token of which only the SHA-256 is
stored, with a per-session CSRF token the page sends back in a header on every action."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.control_tables import ControllerRow, ControllerSessionRow

ROLES = ("viewer", "controller")
_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MiB, ~50 ms on this VM
MIN_PASSWORD = 8


class ControllerError(ValueError):
    """A refused account change (unknown user, bad role, short password...)."""


@dataclass(frozen=True, slots=True)
class Controller:
    username: str
    role: str
    disabled: bool
    created_at: datetime

    @property
    def can_act(self) -> bool:
        return self.role == "controller" and not self.disabled


@dataclass(frozen=True, slots=True)
class SessionInfo:
    controller: Controller
    csrf_token: str
    expires_at: datetime


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(got.hex(), digest)


def _controller(row: ControllerRow) -> Controller:
    return Controller(row.username, row.role, row.disabled, row.created_at)


def _check(username: str, role: str, password: str | None) -> None:
    if (
        not username
        or len(username) > 64
        or not username.replace("-", "").replace(".", "").replace("_", "").isalnum()
    ):
        raise ControllerError(f"username: {username!r} is not 1-64 letters, digits, '-', '_', '.'")
    if role not in ROLES:
        raise ControllerError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ControllerError(f"password: at least {MIN_PASSWORD} characters")


async def create_controller(
    *, session: AsyncSession, username: str, role: str, password: str, now: datetime
) -> Controller:
    _check(username, role, password)
    if await session.get(ControllerRow, username) is not None:
        raise ControllerError(f"username: {username!r} exists")
    row = ControllerRow(
        username=username, role=role, password_hash=hash_password(password), created_at=now
    )
    session.add(row)
    await session.flush()
    return _controller(row)


async def list_controllers(*, session: AsyncSession) -> list[Controller]:
    rows = await session.scalars(select(ControllerRow).order_by(ControllerRow.username))
    return [_controller(r) for r in rows]


async def set_role(*, session: AsyncSession, username: str, role: str) -> Controller:
    _check(username, role, None)
    row = await session.get(ControllerRow, username)
    if row is None:
        raise ControllerError(f"username: no controller {username!r}")
    row.role = role
    await session.flush()
    return _controller(row)


async def set_password(*, session: AsyncSession, username: str, password: str) -> None:
    row = await session.get(ControllerRow, username)
    if row is None:
        raise ControllerError(f"username: no controller {username!r}")
    _check(username, row.role, password)
    row.password_hash = hash_password(password)
    await session.execute(
        delete(ControllerSessionRow).where(ControllerSessionRow.username == username)
    )


async def set_disabled(*, session: AsyncSession, username: str, disabled: bool) -> None:
    result = await session.execute(
        update(ControllerRow).where(ControllerRow.username == username).values(disabled=disabled)
    )
    if not getattr(result, "rowcount", 0):
        raise ControllerError(f"username: no controller {username!r}")
    if disabled:
        await session.execute(
            delete(ControllerSessionRow).where(ControllerSessionRow.username == username)
        )


async def authenticate(*, session: AsyncSession, username: str, password: str) -> Controller | None:
    """The controller if the password is right and the account enabled; None otherwise
    (the same answer for an unknown user, a wrong password and a disabled account)."""
    row = await session.get(ControllerRow, username)
    if row is None:
        check_password(password, hash_password("timing-equaliser", salt=b"0" * 16))
        return None
    if not check_password(password, row.password_hash) or row.disabled:
        return None
    return _controller(row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    *, session: AsyncSession, username: str, now: datetime, ttl: timedelta
) -> tuple[str, str]:
    """A new session: (cookie token, CSRF token); only the token's hash is stored."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        ControllerSessionRow(
            token_hash=_token_hash(token),
            username=username,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.execute(delete(ControllerSessionRow).where(ControllerSessionRow.expires_at < now))
    return token, csrf


async def session_for(*, session: AsyncSession, token: str, now: datetime) -> SessionInfo | None:
    found = (
        await session.execute(
            select(ControllerSessionRow, ControllerRow)
            .join(ControllerRow, ControllerRow.username == ControllerSessionRow.username)
            .where(ControllerSessionRow.token_hash == _token_hash(token))
        )
    ).first()
    if found is None:
        return None
    sess, row = found
    if sess.expires_at <= now or row.disabled:
        return None
    return SessionInfo(_controller(row), sess.csrf_token, sess.expires_at)


async def close_session(*, session: AsyncSession, token: str) -> None:
    await session.execute(
        delete(ControllerSessionRow).where(ControllerSessionRow.token_hash == _token_hash(token))
    )
