"""The demo's control-room account: `borderflow up` with the simulator (so `make demo`)
creates a controller `demo` with a random password, printed once, when the database has no
controller account yet, so a new user can open the control room at once. A database that
has accounts (or a system without the simulator) gets none."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.control_tables import ControllerRow
from services.db.controllers import create_controller
from streams import clock

DEMO_USER = "demo"


async def ensure_demo_controller(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    """The new account's password, or None when controller accounts exist already."""
    async with sessions() as session, session.begin():
        if await session.scalar(select(func.count()).select_from(ControllerRow)):
            return None
        password = secrets.token_urlsafe(9)
        await create_controller(
            session=session,
            username=DEMO_USER,
            role="controller",
            password=password,
            now=clock.wall_clock(),
        )
    return password
