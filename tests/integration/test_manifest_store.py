"""Manifest storage on SQLite and PostgreSQL: versions, ownership, the plate-key index,
look-ups, and two writers of one new id at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.model import CustomsStatus, Direction, Manifest
from lanes.similarity import KEY_SCHEME, fold, index_keys, query_keys
from services.adapters.manifest_intake import submit
from services.db.engine import session_factory
from services.db.manifests import (
    PLATE_KEY_SCHEME,
    StoreResult,
    StoreStatus,
    get_manifest,
    list_manifests,
    manifests_for_keys,
    rebuild_plate_keys,
    store_manifests,
)
from services.db.tables import ManifestPlateKeyRow, ManifestRow, ManifestVersionRow, MetaRow

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _m(manifest_id: str = "MF-1", firm: str = "firm-a", **changes: object) -> Manifest:
    base = Manifest(
        manifest_id=manifest_id,
        firm_id=firm,
        direction=Direction.EXPORT,
        tractor_plate="29H12345",
        trailer_plate="29R01234",
        containers=("CSQU3054383",),
        cargo_description="dragon fruit",
        hs_codes=("0810.90",),
        gross_weight_kg=18500.0,
        customs_status=CustomsStatus.CLEARED,
        window_start=T0,
        window_end=T0 + timedelta(hours=10),
    )
    return replace(base, **changes)


async def _store(
    engine: AsyncEngine, *ms: Manifest, at: datetime = T0, firm_scope: str | None = None
) -> list[StoreResult]:
    return await submit(
        sessions=session_factory(engine),
        manifests=list(ms),
        source="http",
        now=at,
        firm_scope=firm_scope,
    )


async def _keys(engine: AsyncEngine, manifest_id: str) -> dict[str, set[str]]:
    async with session_factory(engine)() as session:
        rows = await session.scalars(
            select(ManifestPlateKeyRow).where(ManifestPlateKeyRow.manifest_id == manifest_id)
        )
        out: dict[str, set[str]] = {}
        for row in rows:
            out.setdefault(row.role, set()).add(row.key)
        return out


async def test_created_then_updated_then_unchanged_with_history(engine: AsyncEngine) -> None:
    first = await _store(engine, _m())
    second = await _store(engine, _m(customs_status=CustomsStatus.PENDING), at=T0 + timedelta(1))
    third = await _store(engine, _m(customs_status=CustomsStatus.PENDING), at=T0 + timedelta(2))

    assert [r.status for r in first + second + third] == [
        StoreStatus.CREATED,
        StoreStatus.UPDATED,
        StoreStatus.UNCHANGED,
    ]
    assert [r.stored.version for r in first + second + third] == [1, 2, 2]
    assert third[0].stored.updated_at == T0 + timedelta(1)  # unchanged: nothing written
    async with session_factory(engine)() as session:
        row = await session.get(ManifestRow, "MF-1")
        history = (
            await session.scalars(select(ManifestVersionRow).order_by(ManifestVersionRow.version))
        ).all()
    assert row is not None
    assert (row.version, row.customs_status, row.source) == (2, "pending", "http")
    assert row.hs_codes == ["0810.90"] and row.gross_weight_kg == 18500.0
    assert [(h.version, h.payload["customs_status"]) for h in history] == [
        (1, "cleared"),
        (2, "pending"),
    ]
    assert history[0].payload["cargo"]["hs_codes"] == ["0810.90"]


async def test_another_firms_id_is_refused_without_naming_the_owner(engine: AsyncEngine) -> None:
    await _store(engine, _m(firm="firm-a"))
    [result] = await _store(engine, _m(firm="firm-b", tractor_plate="29H99999"))
    assert result.status is StoreStatus.REFUSED
    assert result.stored is None
    assert "MF-1" in (result.reason or "") and "firm-a" not in (result.reason or "")
    [scoped] = await _store(engine, _m("MF-2", firm="firm-a"), firm_scope="firm-b")
    assert scoped.status is StoreStatus.REFUSED
    async with session_factory(engine)() as session:
        stored = await get_manifest(session=session, firm_id="firm-a", manifest_id="MF-1")
        assert await get_manifest(session=session, firm_id="firm-a", manifest_id="MF-2") is None
    assert stored is not None
    assert stored.manifest.tractor_plate == "29H12345"
    assert stored.version == 1


async def test_plate_keys_are_written_and_replaced_when_a_plate_changes(
    engine: AsyncEngine,
) -> None:
    await _store(engine, _m())
    assert await _keys(engine, "MF-1") == {
        "tractor": set(index_keys("29H12345")),
        "trailer": set(index_keys("29R01234")),
    }
    await _store(engine, _m(cargo_description="pitaya"))  # no plate change: same keys
    assert (await _keys(engine, "MF-1"))["tractor"] == set(index_keys("29H12345"))
    await _store(engine, _m(tractor_plate="29H67890", trailer_plate=None))
    assert await _keys(engine, "MF-1") == {"tractor": set(index_keys("29H67890"))}


async def test_manifests_for_keys_finds_a_one_character_misread(engine: AsyncEngine) -> None:
    await _store(
        engine,
        _m("MF-1"),
        _m("MF-OLD", tractor_plate="29H12346", trailer_plate=None, window_end=T0 - timedelta(3)),
        _m("MF-OPEN", tractor_plate="29H12347", trailer_plate=None, window_end=None),
        _m("MF-FAR", tractor_plate="51C98765", trailer_plate="51R98765"),
    )
    async with session_factory(engine)() as session:
        # "29H1Z345": Z for 2, a look-alike; "29H1345": a lost character
        found = await manifests_for_keys(
            session=session, keys=query_keys("29H1Z345") | query_keys("29H1345"), ended_after=T0
        )
        by_trailer = await manifests_for_keys(
            session=session, keys=query_keys("29R0I234"), ended_after=T0
        )
        nothing = await manifests_for_keys(session=session, keys=[], ended_after=T0)
        many = [f"NOPE{i}" for i in range(25_000)] + [fold("29H12345")]
        in_chunks = await manifests_for_keys(session=session, keys=many, ended_after=T0)
    ids = [m.manifest_id for m in found]
    assert "MF-1" in ids and "MF-OPEN" in ids
    assert "MF-OLD" not in ids  # its window closed before `ended_after`
    assert "MF-FAR" not in ids
    assert len(ids) == len(set(ids))
    assert [m.manifest_id for m in by_trailer] == ["MF-1"]
    assert nothing == []
    assert [m.manifest_id for m in in_chunks] == ["MF-1"]  # past the bound-parameter cap
    assert found[ids.index("MF-1")].hs_codes == ("0810.90",)


async def test_one_id_twice_in_a_batch_is_stored_in_order(engine: AsyncEngine) -> None:
    results = await _store(engine, _m(), _m(perishable=True), _m(perishable=True))
    assert [(r.status, r.stored.version) for r in results] == [
        (StoreStatus.CREATED, 1),
        (StoreStatus.UPDATED, 2),
        (StoreStatus.UNCHANGED, 2),
    ]


async def test_list_pages_by_id_and_only_the_firms_own(engine: AsyncEngine) -> None:
    await _store(engine, *(_m(f"MF-{i:02d}") for i in range(5)), _m("MF-X", firm="firm-b"))
    async with session_factory(engine)() as session:
        page1 = await list_manifests(session=session, firm_id="firm-a", limit=3)
        page2 = await list_manifests(
            session=session, firm_id="firm-a", limit=3, after=page1[-1].manifest.manifest_id
        )
    assert [s.manifest.manifest_id for s in page1] == ["MF-00", "MF-01", "MF-02"]
    assert [s.manifest.manifest_id for s in page2] == ["MF-03", "MF-04"]


async def test_two_writers_of_one_new_id_do_not_collide(engine: AsyncEngine) -> None:
    """The first writer holds its uncommitted insert while the second tries the same id:
    the second waits (row or database lock), then finds the row instead of failing."""
    sessions = session_factory(engine)
    async with sessions() as first:
        async with first.begin():
            await store_manifests(session=first, manifests=[_m()], source="http", now=T0)
            second = asyncio.create_task(
                _store(engine, _m(cargo_description="other"), at=T0 + timedelta(1))
            )
            await asyncio.sleep(0.3)
            assert not second.done()  # blocked behind the first transaction
        [result] = await asyncio.wait_for(second, timeout=30)
    assert result.status is StoreStatus.UPDATED
    assert result.stored is not None and result.stored.version == 2
    both = await asyncio.gather(_store(engine, _m("MF-2")), _store(engine, _m("MF-2")))
    statuses = sorted(r[0].status for r in both)
    assert statuses == [StoreStatus.CREATED, StoreStatus.UNCHANGED]


async def test_keys_of_an_older_scheme_are_rebuilt_once(engine: AsyncEngine) -> None:
    await _store(engine, _m("MF-1"), _m("MF-2", tractor_plate="桂A12345", trailer_plate=None))
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        assert await rebuild_plate_keys(session=session) is None  # prepared by the fixture
        # as if the keys had been built by another version of lanes.similarity
        await session.execute(delete(ManifestPlateKeyRow))
        meta = await session.get(MetaRow, PLATE_KEY_SCHEME)
        assert meta is not None and meta.value == str(KEY_SCHEME)
        meta.value = "0"
    async with sessions() as session, session.begin():
        assert await rebuild_plate_keys(session=session, batch=1) == 2
    async with sessions() as session, session.begin():
        assert await rebuild_plate_keys(session=session) is None
        keys = set(await session.scalars(select(ManifestPlateKeyRow.key)))
        found = await manifests_for_keys(session=session, keys=query_keys("A12345"), ended_after=T0)
    assert keys == index_keys("29H12345") | index_keys("29R01234") | index_keys("桂A12345")
    assert [m.manifest_id for m in found] == ["MF-2"]
