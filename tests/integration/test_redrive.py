"""`borderflow redrive`: a dead-letter topic's records (after a fix) or an archived range go
back onto a topic with their key, value and headers (the dlq.* headers dropped), paced;
--dry-run sends nothing."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.bootstrap import build_archiver
from services.replay.commands import main_redrive
from services.runtime.settings import DatabaseSettings
from streams.topics import PLATE_READS
from tests.integration.harness import (
    as_message,
    collect,
    collect_to_end,
    fresh_broker,
    make_settings,
    publish,
    read,
    running_system,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _args(**given: object) -> argparse.Namespace:
    fields: dict[str, object] = {
        "start": None,
        "end": None,
        "topic": None,
        "dlq": None,
        "to_topic": None,
        "rate": 0.0,
        "dry_run": False,
    }
    return argparse.Namespace(**{**fields, **given})


async def test_redrive_a_dead_letter_topic_and_an_archived_range(
    tmp_path: Path, database_settings: DatabaseSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            archiver, archiving = build_archiver(system.infra)
            task = asyncio.create_task(archiving.run(system.stop))
            await asyncio.wait_for(archiving.ready.wait(), timeout=20)
            good = read("r-1", "29H-123.45", T0)
            stray = read("r-2", "29H-123.45", T0, camera="hn-exp-gate-9")  # unknown camera
            await publish(broker.bootstrap, as_message(good), as_message(stray))

            async def dead_lettered() -> bool:
                return bool(system.runtime.stats.dead_lettered >= 1)

            await wait_until(dead_lettered, timeout=30)

            # dry run: counted, nothing sent
            assert await main_redrive(settings, _args(dlq=PLATE_READS.dlq.name, dry_run=True)) == 0
            assert "would send 1 records" in capsys.readouterr().out
            assert await collect_to_end(broker.bootstrap, "fixed.plate-reads") == []
            # only the dead letters of a reason (and a group): the others stay where they are
            for reason, sent in (("UNKNOWN CAMERA", 1), ("clock-skew", 0)):
                code = await main_redrive(
                    settings,
                    _args(dlq=PLATE_READS.dlq.name, dry_run=True, reason=reason, group=None),
                )
                assert code == 0
                assert f"would send {sent} records" in capsys.readouterr().out

            # the dead letter, after a fix (the camera now known), onto a topic of its own
            code = await main_redrive(
                settings, _args(dlq=PLATE_READS.dlq.name, to_topic="fixed.plate-reads", rate=50)
            )
            assert code == 0
            (again,) = await collect(broker.bootstrap, "fixed.plate-reads", expect=1)
            assert again.key == b"hn-exp-gate-9"
            assert again.value == as_message(stray)[1]
            assert not any(k.startswith("dlq.") for k, _ in again.headers or ())

            # an archived range (the reads' minute), paced at 20 records/s
            async def archived() -> bool:
                return bool(archiver.stats.archived >= 3)

            await wait_until(archived, timeout=30)
            code = await main_redrive(
                settings,
                _args(
                    start=T0,
                    end=T0 + timedelta(minutes=1),
                    topic=PLATE_READS.name,
                    to_topic="redriven.plate-reads",
                    rate=20,
                ),
            )
            assert code == 0
            assert "sent 2 records" in capsys.readouterr().out
            got = await collect(broker.bootstrap, "redriven.plate-reads", expect=2)
            assert sorted(r.value for r in got) == sorted(as_message(x)[1] for x in (good, stray))
            system.stop.set()
            await asyncio.wait_for(task, timeout=20)


async def test_redrive_needs_a_source(
    tmp_path: Path, database_settings: DatabaseSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings("127.0.0.1:1", database_settings, tmp_path)
    assert await main_redrive(settings, _args()) == 2
    assert "give either --dlq TOPIC or --from and --to" in capsys.readouterr().err
