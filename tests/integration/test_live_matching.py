"""The live path with OCR noise, on the real broker and database (SQLite and PostgreSQL): a
misread joins its truck's visit, and what the matcher cannot decide reaches the review
queue with its evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from lanes.model import Direction
from services.api.app import create_app
from services.bootstrap.serving import api_context
from services.db.tables import PlateReadRow, VisitRow
from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS
from tests.integration.harness import (
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
    staff_cookies,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def test_misreads_join_their_truck_and_the_undecided_reach_review(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(
                system.infra,
                manifest("MF-1", "29H12345"),
                manifest("MF-5", "29H55555"),
                manifest("MF-6", "29H55558"),  # a near twin of MF-5
                manifest("MF-9", "桂A12345", direction=Direction.IMPORT),
                now=T0,
            )
            sent = [
                # one truck: a look-alike misread at one gate portal, clean at the other
                # (a truck read only at the waiting area's camera waits there undecided:
                # test_decider_memory.py)
                read("a-1", "29H-I23.45", T0, camera="hn-exp-gate-2", confidence=0.7),
                read("a-2", "29H-123.45", T0 + timedelta(seconds=50)),
                # an unsure 6 between the twins 29H55555 and 29H55558
                read("b-1", "29H55556", T0 + timedelta(minutes=1), confidence=0.4),
                # no manifest at all
                read("c-1", "51C-999.99", T0 + timedelta(minutes=2)),
                # a Chinese truck seen going the wrong way, its province character lost
                read("d-1", "A·12345", T0 + timedelta(minutes=3)),
            ]
            await publish(
                broker.bootstrap, *((r["camera_id"], json.dumps(r).encode()) for r in sent)
            )
            records = await collect(broker.bootstrap, LANE_DECISIONS.name, expect=4)
            await wait_until(lambda: _count(system.infra, PlateReadRow, 5))

            by_plate = {d["plate"]: d for d in decision_payloads(records)}
            assert set(by_plate) == {"29H12345", "29H55556", "51C99999", "桂A12345"}
            truck = by_plate["29H12345"]
            assert (truck["outcome"], truck["match_outcome"], truck["manifest_id"]) == (
                "assigned",
                "matched",
                "MF-1",
            )
            assert 0.5 < truck["match_score"] < 1.0
            assert by_plate["29H55556"]["match_outcome"] == "ambiguous"
            assert {c["manifest_id"] for c in by_plate["29H55556"]["match_candidates"]} == {
                "MF-5",
                "MF-6",
            }
            assert by_plate["51C99999"]["match_outcome"] == "unknown"
            wrong_way = by_plate["桂A12345"]
            assert (wrong_way["match_outcome"], wrong_way["manifest_id"]) == ("mismatch", "MF-9")
            assert await _count(system.infra, VisitRow, 4)

            transport = httpx.ASGITransport(app=create_app(api_context(system.infra)))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                client.cookies.update(await staff_cookies(system.infra))
                first = (await client.get("/v1/review", params={"limit": 2})).json()
                rest = (await client.get("/v1/review", params={"after": first["next"]})).json()
            items = first["items"] + rest["items"]
            assert [i["match_outcome"] for i in items] == ["ambiguous", "unknown", "mismatch"]
            ambiguous = items[0]
            assert ambiguous["reads"][0]["plate_text"] == "29H55556"
            assert {c["manifest_id"] for c in ambiguous["candidates"]} == {"MF-5", "MF-6"}
            assert "MF-5" in ambiguous["reason"] and "MF-6" in ambiguous["reason"]
            assert rest["next"] is None


async def _count(infra, model, at_least: int) -> bool:  # type: ignore[no-untyped-def]
    async with infra.sessions() as session:
        found = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    return found >= at_least
