"""The `borderflow.manifests` topic with the real broker: a good manifest is stored (bare or
enveloped), a malformed one and another firm's id land in `borderflow.manifests.dlq` with
the reason; nothing is dropped."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from services.db.manifests import get_manifest
from services.runtime.settings import DatabaseSettings
from streams.topics import MANIFESTS, dead_letter_topic
from tests.integration.harness import (
    collect,
    fresh_broker,
    make_settings,
    manifest_form,
    publish_to,
    running_manifest_intake,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def _message(form: dict[str, object]) -> tuple[str, bytes]:
    return str(form["manifest_id"]), json.dumps(form, ensure_ascii=False).encode()


async def test_manifests_from_the_topic_are_stored_and_bad_ones_dead_lettered(
    database_settings: DatabaseSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = manifest_form("MF-1")
    enveloped = {
        "event_id": "evt-2",
        "type": "manifest",
        "version": 1,
        "occurred_at": "2026-11-23T07:00:00+07:00",
        "producer": "firm-erp",
        "data": manifest_form("MF-2", tractor_plate="12C-123.45"),
    }
    malformed = manifest_form("MF-3", tractor_plate="29R-012.34")  # a trailer's plate
    theirs = manifest_form("MF-1", firm_id="firm-02")  # MF-1 is firm-01's
    theirs_enveloped = enveloped | {
        "event_id": "evt-5",
        "data": manifest_form("MF-2", firm_id="firm-02"),
    }
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_manifest_intake(settings) as system:
            await publish_to(
                broker.bootstrap,
                MANIFESTS.name,
                _message(good),
                ("MF-2", json.dumps(enveloped).encode()),
                ("MF-X", b'{"manifest_id": '),
                _message(malformed),
                _message(good),  # a redelivery, in effect: unchanged
            )

            async def first_five_handled() -> bool:
                stats = system.intake.stats
                handled = stats["created"] + stats["unchanged"]
                return handled >= 3 and system.runtime.stats.dead_lettered >= 2

            await wait_until(first_five_handled)
            with caplog.at_level(logging.WARNING, logger="services.workers.manifests"):
                await publish_to(
                    broker.bootstrap,
                    MANIFESTS.name,
                    _message(theirs),
                    ("MF-2", json.dumps(theirs_enveloped).encode()),
                )
                dead = await collect(broker.bootstrap, dead_letter_topic(MANIFESTS.name), expect=4)
            async with system.infra.sessions() as session:
                mf1 = await get_manifest(session=session, firm_id="firm-01", manifest_id="MF-1")
                mf2 = await get_manifest(session=session, firm_id="firm-01", manifest_id="MF-2")

    assert mf1 is not None and mf1.source == "topic" and mf1.version == 1
    assert mf2 is not None and mf2.manifest.tractor_plate == "12C12345"
    assert system.intake.stats["created"] == 2
    assert system.intake.stats["unchanged"] == 1
    assert system.intake.stats["refused"] == 2

    reasons = [dict(r.headers)["dlq.error"].decode() for r in dead]
    types = [dict(r.headers)["dlq.error.type"].decode() for r in dead]
    first_two = sorted(reasons[:2])  # from two partitions: either order
    assert first_two[0].startswith("invalid JSON")
    assert first_two[1].startswith("tractor_plate: '29R-012.34' is a trailer's plate")
    assert types[:2] == ["invalid_event", "invalid_event"]
    assert sorted(reasons[2:]) == [
        "manifest_id: 'MF-1' is already taken; choose another id",
        "manifest_id: 'MF-2' is already taken; choose another id",
    ]
    assert types[2:] == ["refused", "refused"]
    [refused_mf1] = [r for r in dead[2:] if r.key == b"MF-1"]
    assert refused_mf1.value == _message(theirs)[1]  # the original bytes
    assert dict(refused_mf1.headers)["dlq.source.topic"] == MANIFESTS.name.encode()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("MF-1 refused" in w and "borderflow.manifests[" in w for w in warnings)
    assert any("MF-2 refused (event evt-5)" in w for w in warnings)
