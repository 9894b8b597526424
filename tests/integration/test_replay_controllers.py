"""What the lane controllers did in a replayed range is counted for the replay's summary
(`services.replay.run.controller_actions`): the replay does not do their actions again, and
a stranger's try found 30 differences after one hold, one release and one dismissed alert,
with nothing saying why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.bootstrap import open_database
from services.db.alert_tables import AlertRow
from services.db.archive_tables import ArchivedEventRow
from services.gates.loader import default_gates
from services.replay.run import controller_actions
from services.runtime.settings import DatabaseSettings, Settings
from streams.topics import CONTROLLER_ACTIONS, PLATE_READS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _archived(n: int, topic: str, at: datetime) -> ArchivedEventRow:
    return ArchivedEventRow(
        topic=topic,
        partition=0,
        offset=n,
        timestamp_ms=int(at.timestamp() * 1000),
        key=None,
        value=b"{}",
        headers=[],
        event_id=f"e-{n}",
        event_time=at,
        archived_at=at,
    )


def _alert(alert_id: str, raised_at: datetime, status_by: str | None) -> AlertRow:
    return AlertRow(
        alert_id=alert_id,
        rule="swap",
        severity="high",
        subject="truck",
        gate_id="huu-nghi",
        raised_at=raised_at,
        explanation="",
        evidence=[],
        hold=True,
        held_visit_id=None,
        status="dismissed" if status_by else "open",
        status_by=status_by,
        status_reason="checked" if status_by else None,
        status_at=raised_at if status_by else None,
        created_at=raised_at,
        published_at=None,
    )


async def test_the_controllers_actions_of_the_range_are_counted(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    settings = Settings(database=database_settings, var_dir=tmp_path)
    hour = timedelta(hours=1)
    gates = default_gates()  # given: the database is migrated, as `borderflow up` leaves it
    async with (
        open_database(database_settings, gates=gates) as sessions,
        sessions() as session,
        session.begin(),
    ):
        session.add_all(
            [
                _archived(1, CONTROLLER_ACTIONS.name, T0 + hour),  # in the range
                _archived(2, CONTROLLER_ACTIONS.name, T0 + 2 * hour),
                _archived(3, CONTROLLER_ACTIONS.name, T0 + 30 * hour),  # after it
                _archived(4, PLATE_READS.name, T0 + hour),  # not an action
                _alert("al-1", T0 + hour, "ana"),  # dismissed by a controller
                _alert("al-2", T0 + hour, None),  # nobody acted
                _alert("al-3", T0 - 30 * hour, "ana"),  # before the range
            ]
        )
    found = await controller_actions(settings, start=T0, end=T0 + 24 * hour)
    assert found == {"actions": 2, "alerts_acted_on": 1}
    assert await controller_actions(settings, start=T0 + 3 * hour, end=T0 + 4 * hour) == {
        "actions": 0,
        "alerts_acted_on": 0,
    }
