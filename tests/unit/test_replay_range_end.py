"""A recorded batch that runs past the range's end is replayed whole (found by an analyst's
try, 2026-12-06: a replay of 02:00 to 06:00 at the gate, its warm-up back to the start of the
recording, gave 1 exact difference, exit 1, and no word why: the decider's live batch held
reads from 05:47 to 06:04, and the replay read them only up to 06:00, so a truck the live
run decided at 06:01, on all its reads, was decided at 05:59 on some, inside the range)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.archive.store import archive
from services.bootstrap import open_database
from services.db.archive_tables import ArchiveBatchRow
from services.gates.loader import default_gates
from services.replay.inputs import from_archive
from services.runtime.settings import DatabaseSettings
from tests.unit.test_replay_not_handled_live import archived_read

END = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # 06:00 at the gate


async def test_a_batch_across_the_end_of_the_range_is_read_whole(tmp_path: Path) -> None:
    before, after = END - timedelta(minutes=1), END + timedelta(minutes=1)
    reads = [
        archived_read("a", before, 0),
        archived_read("b", after, 1),
        archived_read("next", after, 2),
    ]
    settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    async with open_database(settings, gates=default_gates()) as sessions:
        async with sessions() as session, session.begin():
            await archive(session=session, records=reads)
            session.add(  # the live batch: a truck's reads on both sides of 06:00
                ArchiveBatchRow(
                    worker="decider",
                    event_ids=["a", "b"],
                    first_event_at=before,
                    last_event_at=after,
                    recorded_at=after,
                    manifest_seq=0,
                )
            )
        inputs = await from_archive(sessions, start=END - timedelta(hours=4), end=END)
    assert [[r.event_id for r in b.records] for b in inputs.batches] == [["a", "b"]]
    assert inputs.not_handled_live == 0  # "next" is after the range: not the range's
