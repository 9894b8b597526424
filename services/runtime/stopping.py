"""Waiting on something unless the server begins to stop: the live streams (the control
room's, the drivers' pages') race each wait against the API context's `stopping` event, so an
open stream never holds a shutdown until uvicorn's graceful timeout cancels it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def unless_stopping(
    awaited: Awaitable[T], stopping: asyncio.Event, wait_s: float | None = None
) -> T | None:
    """`awaited`'s result, or None as soon as `stopping` is set (`awaited` is then
    cancelled); TimeoutError after `wait_s` seconds with neither."""
    getting = asyncio.ensure_future(awaited)
    waiting = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait(
            {getting, waiting}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (getting, waiting):
            if not task.done():
                task.cancel()
    if getting in done:
        return getting.result()
    if waiting in done:
        return None
    raise TimeoutError
