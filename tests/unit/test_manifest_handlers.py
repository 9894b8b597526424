"""The manifest use case (services/service_layer/manifests.py) on the in-memory adapter:
no database, no broker. The same handler files manifests on the database behind the
`borderflow.manifests` consumer, the bulk import and the HTTP API
(tests/integration/test_manifest_topic.py, test_manifest_import.py, test_manifest_api.py)."""

from __future__ import annotations

import io
import json
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lanes.filing import StoreStatus
from lanes.model import Direction, Manifest
from services.adapters.memory_manifests import MemoryManifests
from services.cli.manifest_import import read_manifests, summary
from services.ports import ManifestStore
from services.service_layer.manifests import FileManifests, FileManifestsHandler, tally

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def manifest(manifest_id: str, firm_id: str = "firm-a", plate: str = "29H12345") -> Manifest:
    return Manifest(
        manifest_id=manifest_id, firm_id=firm_id, direction=Direction.EXPORT, tractor_plate=plate
    )


async def test_created_then_unchanged_then_a_new_version() -> None:
    data = MemoryManifests()
    file = FileManifestsHandler(uow=data.stores())
    first = await file(FileManifests((manifest("M-1"),), source="topic", now=T0))
    again = await file(FileManifests((manifest("M-1"),), source="import", now=T0))
    moved = await file(FileManifests((manifest("M-1", plate="29H99999"),), source="http", now=T0))

    assert [r.status for r in first + again + moved] == [
        StoreStatus.CREATED,
        StoreStatus.UNCHANGED,
        StoreStatus.UPDATED,
    ]
    assert moved[0].stored is not None and moved[0].stored.version == 2
    assert (moved[0].stored.source, data.stored["M-1"].manifest.tractor_plate) == (
        "http",
        "29H99999",
    )


async def test_another_firms_id_and_the_callers_scope_are_refused_in_order() -> None:
    data = MemoryManifests()
    file = FileManifestsHandler(uow=data.stores())
    await file(FileManifests((manifest("M-1"),), source="topic", now=T0))

    results = await file(
        FileManifests(
            (manifest("M-1", firm_id="firm-b"), manifest("M-2", firm_id="firm-b")),
            source="topic",
            now=T0,
        )
    )
    scoped = await file(
        FileManifests((manifest("M-3"),), source="http", now=T0, firm_scope="firm-b")
    )

    assert [(r.manifest_id, r.status) for r in results] == [
        ("M-1", StoreStatus.REFUSED),
        ("M-2", StoreStatus.CREATED),
    ]
    assert results[0].reason == "manifest_id: 'M-1' is already taken; choose another id"
    assert scoped[0].status is StoreStatus.REFUSED and "firm-a" in (scoped[0].reason or "")
    assert sorted(data.stored) == ["M-1", "M-2"]
    assert tally(results + scoped) == {"created": 1, "updated": 0, "unchanged": 0, "refused": 2}


async def test_a_transaction_that_fails_keeps_nothing() -> None:
    data = MemoryManifests()
    with pytest.raises(RuntimeError):
        async with data.stores()() as store:
            await store.file([manifest("M-1")], source="topic", now=T0)
            raise RuntimeError("broken after the write")
    assert data.stored == {} and data.versions == []


async def test_an_empty_batch_opens_no_transaction() -> None:
    opened: list[int] = []
    data = MemoryManifests()

    def stores() -> AbstractAsyncContextManager[ManifestStore]:
        opened.append(1)
        return data.stores()()

    file = FileManifestsHandler(uow=stores)
    assert await file(FileManifests((), source="topic", now=T0)) == []
    assert opened == []


def _line(manifest_id: str, **fields: Any) -> bytes:
    """One line of a bulk import file: a valid intake form of firm-a."""
    form = {
        "manifest_id": manifest_id,
        "firm_id": "firm-a",
        "direction": "export",
        "tractor_plate": "29H-123.45",
        "containers": ["CSQU3054383"],
        "cargo": {"description": "dragon fruit", "hs_codes": ["0810.90"], "gross_weight_kg": 18500},
        "perishable": True,
        "customs_status": "cleared",
        "window_start": "2026-11-23T06:00:00+07:00",
        "window_end": "2026-11-23T18:00:00+07:00",
    }
    return json.dumps(form | fields).encode() + b"\n"


async def test_the_bulk_import_files_through_the_handler() -> None:
    """The CLI's reading of a JSONL file (invalid lines reported, valid ones filed in
    batches) on the in-memory store."""
    data = MemoryManifests()
    await FileManifestsHandler(uow=data.stores())(
        FileManifests((manifest("TAKEN", firm_id="firm-z"),), source="http", now=T0)
    )
    lines = [
        _line("M-1"),
        b"{not json\n",
        b"\n",
        _line("TAKEN"),
        _line("M-2", tractor_plate="29H-543.21"),
    ]
    errors = io.StringIO()

    counts = await read_manifests(
        FileManifestsHandler(uow=data.stores()),
        lines=lines,
        name="f.jsonl",
        now=T0,
        errors=errors,
        batch=2,
    )

    assert summary("f.jsonl", counts) == (
        "f.jsonl: 2 created, 0 updated, 0 unchanged, 1 refused, 1 invalid"
    )
    problems = errors.getvalue().splitlines()
    assert problems[0].startswith("f.jsonl:2: invalid JSON")
    assert problems[1] == "f.jsonl:4: manifest_id: 'TAKEN' is already taken; choose another id"
    assert sorted(data.stored) == ["M-1", "M-2", "TAKEN"]


async def test_a_booked_manifests_direction_change_is_refused_naming_its_booking() -> None:
    # the topic's and the import's view (the HTTP API's: test_bookings_api.py); the same
    # rule as the database's store
    data = MemoryManifests()
    file = FileManifestsHandler(uow=data.stores())
    await file(FileManifests((manifest("M-1"), manifest("M-2")), source="topic", now=T0))
    data.active_bookings["M-1"] = "bk_1"
    turned = [replace(manifest(m), direction=Direction.IMPORT) for m in ("M-1", "M-2")]
    results = await file(FileManifests(tuple(turned), source="topic", now=T0))
    assert [r.status for r in results] == [StoreStatus.REFUSED, StoreStatus.UPDATED]
    assert (results[0].reason or "").startswith(
        "direction: manifest 'M-1' holds booking 'bk_1', a slot for the other direction"
    )
    assert data.stored["M-1"].manifest.direction is Direction.EXPORT


async def test_a_booked_manifests_window_moved_off_its_slot_is_refused_naming_it() -> None:
    # the topic's and the import's view (the HTTP API's: test_booking_window.py): its truck,
    # on time for the slot, would be matched outside_window at the gate
    hour = timedelta(hours=1)
    windowed = [
        replace(manifest(m), window_start=T0, window_end=T0 + 4 * hour) for m in ("M-1", "M-2")
    ]
    data = MemoryManifests()
    file = FileManifestsHandler(uow=data.stores())
    await file(FileManifests(tuple(windowed), source="topic", now=T0))
    for m in ("M-1", "M-2"):
        data.active_bookings[m] = f"bk_{m}"
        data.booked_slots[m] = (T0, T0 + hour)
    amended = [
        replace(windowed[0], window_start=T0 + 2 * hour),  # off the slot
        replace(windowed[1], window_start=T0 + hour / 2),  # still meets it
    ]
    results = await file(FileManifests(tuple(amended), source="topic", now=T0))
    assert [r.status for r in results] == [StoreStatus.REFUSED, StoreStatus.UPDATED]
    assert (results[0].reason or "").startswith(
        "window_start: manifest 'M-1' holds booking 'bk_M-1' for the slot "
    )
    assert data.stored["M-1"].manifest.window_start == T0


async def test_a_booked_manifests_perishable_change_is_refused_naming_its_booking() -> None:
    # the topic's and the import's view (the HTTP API's: test_booked_manifest_cargo.py): the
    # booking counted the place as general cargo, so the slot's counts would drift
    data = MemoryManifests()
    file = FileManifestsHandler(uow=data.stores())
    await file(FileManifests((manifest("M-1"), manifest("M-2")), source="topic", now=T0))
    data.active_bookings["M-1"] = "bk_1"
    data.active_bookings["M-2"] = "bk_2"
    amended = [
        replace(manifest("M-1"), perishable=True),
        replace(manifest("M-2"), cargo_description="apples"),
    ]
    results = await file(FileManifests(tuple(amended), source="import", now=T0))
    assert [r.status for r in results] == [StoreStatus.REFUSED, StoreStatus.UPDATED]
    assert (results[0].reason or "").startswith(
        "perishable: manifest 'M-1' holds booking 'bk_1', a place counted as general cargo"
    )
    assert data.stored["M-1"].manifest.perishable is False
