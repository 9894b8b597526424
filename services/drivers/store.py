"""The drivers' pages in the database (issue 23): the call-forward worker (or the booking
API, at booking) writes each page's data by its key; the API serves a page by its token
and streams it by polling the row's version (every replica, and after a restart, shows
the same). The secret (BORDERFLOW_DRIVERS_SECRET) makes the tokens: the API and the
call-forward worker must share it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from lanes.model import Gate
from lanes.plates import normalise_plate
from services.db.booking_tables import BookingRow
from services.db.driver_pages import BOOKING_PAGE
from services.db.driver_tables import DriverPageRow
from services.db.tables import ManifestRow, VisitRow
from services.drivers.hub import DriverHub, normal_code, page_code, page_token
from services.drivers.i18n import language_of_phone
from services.drivers.view import with_area

POLL_S = 0.25


def drivers_secret(configured: str | None, var_dir: Path) -> bytes:
    """The configured secret, else one made once under var_dir (kept across restarts)."""
    if configured:
        return configured.encode()
    path = var_dir / "drivers-secret"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


# A page not written for this long is over (a booking is at most 7 days ahead, a call a few
# hours): its row, its token and short code are dropped (a wall-clock retention).
PAGE_KEEP = timedelta(days=30)


async def purge_pages(*, session: AsyncSession, now: datetime) -> int:
    """Drop the pages not written for PAGE_KEEP (their links then answer 404); how many."""
    result = await session.execute(
        delete(DriverPageRow).where(DriverPageRow.updated_at < now - PAGE_KEEP)
    )
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


async def language_of_visit(session: AsyncSession, visit_id: str) -> str | None:
    """The language the driver of this truck last chose on its page (its language links);
    else, none chosen (a driver texted before opening any link), the language of the country of the
    mobile given with its booking (`+84`: Vietnamese, `+86`: Chinese); None: not known."""
    pages = (
        await session.execute(
            select(DriverPageRow.language, DriverPageRow.phone).where(
                DriverPageRow.visit_id == visit_id
            )
        )
    ).all()
    read = next((language for language, _ in pages if language), None)
    return read or next((language_of_phone(phone) for _, phone in pages if phone), None)


async def code_of_visit(session: AsyncSession, visit_id: str) -> str | None:
    """The short code of the page that follows this truck (the last written, should two);
    None: no page follows it. By the truck's own visit id only: another truck's code is
    never given."""
    code: str | None = await session.scalar(
        select(DriverPageRow.code)
        .where(DriverPageRow.visit_id == visit_id)
        .order_by(DriverPageRow.updated_at.desc(), DriverPageRow.token)
        .limit(1)
    )
    return code


def _text(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


async def save_pages(
    *,
    session: AsyncSession,
    secret: bytes,
    states: Mapping[str, Mapping[str, Any]],
    now: datetime,
    only_existing: bool = False,
    visits: Mapping[str, str] | None = None,
) -> int:
    """Write these pages' data (by key); a changed page's version goes up. New pages are
    made unless `only_existing`; `visits` (page key -> visit id) records the truck each
    page follows. Returns the pages changed. The caller commits."""
    visits = visits or {}
    if not states:
        return 0
    rows = {
        row.page_key: row
        for row in await session.scalars(
            select(DriverPageRow).where(DriverPageRow.page_key.in_(list(states)))
        )
    }
    changed = 0
    for key, data in states.items():
        row = rows.get(key)
        if row is None:
            if only_existing:
                continue
            session.add(
                DriverPageRow(
                    token=page_token(secret, key),
                    page_key=key,
                    code=page_code(secret, key),
                    state=dict(data),
                    version=1,
                    updated_at=now,
                    visit_id=visits.get(key),
                )
            )
            changed += 1
            continue
        if key in visits and row.visit_id != visits[key]:
            row.visit_id = visits[key]
        if _text(row.state) != _text(data):
            await session.execute(
                update(DriverPageRow)
                .where(DriverPageRow.token == row.token)
                .values(state=dict(data), version=DriverPageRow.version + 1, updated_at=now)
            )
            changed += 1
    return changed


async def existing_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    found = await session.scalars(
        select(DriverPageRow.page_key).where(DriverPageRow.page_key.in_(keys))
    )
    return set(found)


Watch = Callable[[float], Awaitable[str | None]]


class DbPages:
    """The page source of the API app: rows of `driver_pages`, streamed by polling."""

    def __init__(
        self,
        sessions: Callable[[], async_sessionmaker[AsyncSession]],
        gates: Callable[[], Mapping[str, Gate]] = dict,
    ) -> None:
        """`sessions`, `gates`: late-bound (the app's context may be built at start-up);
        the gates as loaded say whether a booked page's gate has a waiting area for it."""
        self._sessions, self._gates = sessions, gates

    async def _row(self, token: str) -> tuple[str, int] | None:
        booking = aliased(BookingRow)
        query = (
            select(DriverPageRow.state, DriverPageRow.version, booking.gate_id, booking.direction)
            .outerjoin(
                booking,
                booking.booking_id == func.substr(DriverPageRow.page_key, len(BOOKING_PAGE) + 1),
            )
            .where(DriverPageRow.token == token)
        )
        async with self._sessions()() as session:
            row = (await session.execute(query)).first()
        if row is None:
            return None
        state, version, gate_id, direction = row
        gate = None if gate_id is None else self._gates().get(gate_id)
        return _text(with_area(state, gate, direction)), version

    async def state(self, token: str) -> str | None:
        row = await self._row(token)
        return None if row is None else row[0]

    async def page_key(self, token: str) -> str | None:
        """The page's key (`booking:<id>` for a booking's page, the visit id for a
        walk-in's); None for an unknown token."""
        async with self._sessions()() as session:
            key: str | None = await session.scalar(
                select(DriverPageRow.page_key).where(DriverPageRow.token == token)
            )
        return key

    async def remember_language(self, token: str, language: str) -> None:
        """The language the driver chose for the page: the one its SMS are written in."""
        async with self._sessions()() as session, session.begin():
            await session.execute(
                update(DriverPageRow)
                .where(
                    DriverPageRow.token == token, DriverPageRow.language.is_distinct_from(language)
                )
                .values(language=language)
            )

    async def token_of_code(self, code: str) -> str | None:
        async with self._sessions()() as session:
            token: str | None = await session.scalar(
                select(DriverPageRow.token).where(DriverPageRow.code == normal_code(code))
            )
        return token

    async def plates_of_code(self, code: str) -> tuple[str, frozenset[str]] | None:
        """The token of the page with this code and the plates of its truck, normalised (a
        booking's manifest's tractor and trailer plates; the plate of the visit it follows,
        a walk-in's or a queued booking's); None: no page has the code. One statement
        whether the code is a page's or not (nothing to time apart but index lookups)."""
        booking, followed, walk_in = aliased(BookingRow), aliased(VisitRow), aliased(VisitRow)
        manifest = aliased(ManifestRow)
        query = (
            select(
                DriverPageRow.token,
                manifest.tractor_plate,
                manifest.trailer_plate,
                followed.plate,
                walk_in.plate,
            )
            .outerjoin(
                booking,
                booking.booking_id == func.substr(DriverPageRow.page_key, len(BOOKING_PAGE) + 1),
            )
            .outerjoin(manifest, manifest.manifest_id == booking.manifest_id)
            .outerjoin(followed, followed.visit_id == DriverPageRow.visit_id)
            .outerjoin(walk_in, walk_in.visit_id == DriverPageRow.page_key)
            .where(DriverPageRow.code == normal_code(code))
        )
        async with self._sessions()() as session:
            rows = (await session.execute(query)).all()
        if not rows:
            return None
        plates = {normalise_plate(plate) for row in rows for plate in row[1:] if plate}
        return rows[0][0], frozenset(plates)

    @contextlib.asynccontextmanager
    async def watch(self, token: str) -> AsyncIterator[Watch]:
        seen = await self._row(token)

        async def changed(within: float) -> str | None:
            nonlocal seen
            loop = asyncio.get_running_loop()
            ends = loop.time() + within
            while True:
                row = await self._row(token)
                if row is not None and (seen is None or row[1] != seen[1]):
                    seen = row
                    return row[0]
                left = ends - loop.time()
                if left <= 0:
                    return None
                await asyncio.sleep(min(POLL_S, left))

        yield changed


class HubPages:
    """The in-process hub as a page source (tests and a single-process demo)."""

    def __init__(self, hub: DriverHub) -> None:
        self.hub = hub

    async def state(self, token: str) -> str | None:
        return self.hub.state(token)

    async def token_of_code(self, code: str) -> str | None:
        return self.hub.token_of_code(code)

    @contextlib.asynccontextmanager
    async def watch(self, token: str) -> AsyncIterator[Watch]:
        visit_id = self.hub.visit_of(token)
        assert visit_id is not None
        async with self.hub.subscribe(visit_id) as queue:

            async def changed(within: float) -> str | None:
                try:
                    return await asyncio.wait_for(queue.get(), within)
                except TimeoutError:
                    return None

            yield changed
