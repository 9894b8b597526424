"""`borderflow manifests import FILE`: bulk import of manifests, JSONL, one intake form
(`ManifestV1`, `firm_id` required) per line; '-' reads standard input.

A malformed line is reported as `FILE:LINE: field: reason` on stderr and does not stop the
rest; valid lines are filed 500 to a transaction (source "import") by the manifest use case
(services/service_layer/manifests.py), the one the `borderflow.manifests` consumer and the
HTTP API call. A summary line closes
the run on stdout. Exit status 0 when every line was accepted, 1 otherwise."""

# A terminal front end: it talks to a person on stdout and stderr.

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.filing import StoreStatus
from lanes.model import Manifest
from services.bootstrap import file_manifests, open_database
from services.db.engine import display_url
from services.gates.loader import configured_gates
from services.runtime.settings import Settings
from services.service_layer.manifests import FileManifests, FileManifestsHandler, tally
from streams import clock
from streams.errors import InvalidEvent
from streams.manifests import decode_manifest

BATCH = 500
BOM = b"\xef\xbb\xbf"


def _lines(path: str) -> Iterator[bytes]:
    # Blocking reads are fine here: this command runs nothing else on its event loop.
    if path == "-":
        yield from sys.stdin.buffer
        return
    with open(path, "rb") as stream:
        yield from stream


def _unreadable(path: str) -> str | None:
    if path == "-":
        return None
    try:
        with open(path, "rb"):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


async def import_manifests(
    *,
    sessions: async_sessionmaker[AsyncSession],
    lines: Iterable[bytes],
    name: str,
    now: datetime,
    errors: TextIO,
    batch: int = BATCH,
) -> Counter[str]:
    """Counts of created / updated / unchanged / refused / invalid lines, filed on the
    database behind `sessions` (the use case as the composition root builds it)."""
    return await read_manifests(
        file_manifests(sessions), lines=lines, name=name, now=now, errors=errors, batch=batch
    )


async def read_manifests(
    file: FileManifestsHandler,
    *,
    lines: Iterable[bytes],
    name: str,
    now: datetime,
    errors: TextIO,
    batch: int = BATCH,
) -> Counter[str]:
    """Decode `lines` and file the valid ones through `file`, `batch` to a transaction."""
    counts = tally(())
    counts["invalid"] = 0
    pending: list[tuple[int, Manifest]] = []

    async def flush() -> None:
        results = await file(FileManifests(tuple(m for _, m in pending), source="import", now=now))
        for (lineno, _), result in zip(pending, results, strict=True):
            if result.status is StoreStatus.REFUSED:
                print(f"{name}:{lineno}: {result.reason}", file=errors)
        counts.update(tally(results))
        pending.clear()

    for lineno, raw in enumerate(lines, start=1):
        line = raw.removeprefix(BOM) if lineno == 1 else raw
        if not line.strip():
            continue
        try:
            pending.append((lineno, decode_manifest(line, require_firm=True).to_domain()))
        except InvalidEvent as exc:
            counts["invalid"] += 1
            print(f"{name}:{lineno}: {exc.reason}", file=errors)
            continue
        if len(pending) >= batch:
            await flush()
    if pending:
        await flush()
    return counts


def summary(name: str, counts: Counter[str]) -> str:
    parts = ", ".join(
        f"{counts[k]} {k}" for k in ("created", "updated", "unchanged", "refused", "invalid")
    )
    return f"{name}: {parts}"


async def main_import(settings: Settings, path: str) -> int:
    name = "<stdin>" if path == "-" else path
    problem = _unreadable(path)
    if problem is not None:  # fail before touching the database
        print(f"borderflow manifests import: {name}: {problem}", file=sys.stderr)
        return 1
    gates = configured_gates(settings.gates_dir)
    async with open_database(settings.database, gates=gates) as sessions:
        counts = await import_manifests(
            sessions=sessions,
            lines=_lines(path),
            name=name,
            now=clock.wall_clock(),
            errors=sys.stderr,
        )
    # which database they went to (found by a stranger's try: run from another folder, the
    # import filled a new ./var/borderflow.db there and said only "14 created")
    print(f"{summary(name, counts)} (database {display_url(settings.database)})")
    return 0 if counts["invalid"] == 0 and counts["refused"] == 0 else 1
