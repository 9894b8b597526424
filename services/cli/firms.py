"""`borderflow firms create | list | rotate-key | revoke-key`: logistics firms and their API
keys. Database only: no broker needed."""

# A terminal front end: it talks to a person on stdout and stderr.

from __future__ import annotations

import argparse
import re
import secrets
import sys
import unicodedata
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.bootstrap import open_database
from services.db import firms as db
from services.gates.loader import configured_gates
from services.runtime.settings import Settings
from streams import clock

FIRM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")  # the intake form's identifiers


def firm_id_from_name(name: str) -> str:
    """`Công ty Vận tải Đông Á` -> `cong-ty-van-tai-dong-a`: lower-case ASCII and dashes."""
    folded = unicodedata.normalize("NFKD", name.lower().replace("đ", "d"))
    ascii_name = folded.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:64].rstrip("-")
    return slug or f"firm-{secrets.token_hex(4)}"


async def main_firms(settings: Settings, args: argparse.Namespace) -> int:
    gates = configured_gates(settings.gates_dir)
    async with open_database(settings.database, gates=gates) as sessions:
        now = clock.wall_clock()
        command = args.firms_command
        if command == "create":
            return await _create(sessions, args.name, args.firm_id, now)
        if command == "list":
            return await _list(sessions)
        if command == "rotate-key":
            return await _rotate(sessions, args.firm_id, now)
        if command == "revoke-key":
            return await _revoke(sessions, args.prefix, now)
        raise AssertionError(command)


def _fail(message: str) -> int:
    print(f"borderflow firms: {message}", file=sys.stderr)
    return 1


def _show_key(issued: db.IssuedKey) -> None:
    print(f"API key: {issued.key}")
    print(
        f"This key is shown once and is not stored: keep it now. A lost key is replaced with "
        f"`borderflow firms rotate-key {issued.firm_id}`.",
        file=sys.stderr,
    )


async def _create(
    sessions: async_sessionmaker[AsyncSession], name: str, firm_id: str | None, now: datetime
) -> int:
    name = name.strip()
    if not name or len(name) > 200:
        return _fail("the firm's name must be 1 to 200 characters")
    firm_id = firm_id or firm_id_from_name(name)
    if not FIRM_ID.match(firm_id):
        return _fail(
            f"firm id {firm_id!r}: 1 to 64 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or a digit"
        )
    try:
        async with sessions() as session, session.begin():
            issued = await db.create_firm(session=session, firm_id=firm_id, name=name, now=now)
    except db.FirmExistsError as exc:
        return _fail(str(exc))
    print(f"created firm {issued.firm_id} ({name})")
    _show_key(issued)
    return 0


async def _list(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        firms = await db.list_firms(session=session)
    if not firms:
        print("no firms yet: `borderflow firms create NAME`")
        return 0
    for firm in firms:
        print(f"{firm.firm_id}  {firm.name}  (since {firm.created_at:%Y-%m-%d})")
        for key in firm.keys:
            state = (
                f"revoked {key.revoked_at:%Y-%m-%d %H:%M}Z"
                if key.revoked_at is not None
                else "active"
            )
            print(f"    {key.prefix}...  issued {key.created_at:%Y-%m-%d %H:%M}Z  {state}")
    return 0


async def _rotate(sessions: async_sessionmaker[AsyncSession], firm_id: str, now: datetime) -> int:
    async with sessions() as session, session.begin():
        issued = await db.rotate_key(session=session, firm_id=firm_id, now=now)
    if issued is None:
        return _fail(f"no firm {firm_id!r} (see `borderflow firms list`)")
    print(f"new key for firm {firm_id}; its older keys keep working until revoked")
    _show_key(issued)
    return 0


async def _revoke(sessions: async_sessionmaker[AsyncSession], prefix: str, now: datetime) -> int:
    prefix = prefix.strip().removesuffix("...")
    async with sessions() as session, session.begin():
        firm_id = await db.revoke_key(session=session, prefix=prefix, now=now)
    if firm_id is None:
        return _fail(f"no live key with prefix {prefix!r} (see `borderflow firms list`)")
    print(f"revoked key {prefix}... of firm {firm_id}")
    return 0
