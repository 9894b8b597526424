"""`borderflow redrive --dlq T --reason TEXT --group G`: only the dead letters an operator
means (found by a stranger operator on PostgreSQL, 2026-12-06: a redrive sent every dead
letter back, the truly bad records too, which came back to the dead-letter topic on each
redrive, and an outage's dead letters once per consumer group that wrote them)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

import pytest

from services.archive.records import ArchivedRecord
from services.archive.redrive import dead_letters_matching
from services.replay.commands import main_redrive
from services.runtime.settings import Settings

AT = datetime(2027, 6, 30, 3, 0, tzinfo=UTC)


def letter(n: int, reason: str, group: str) -> ArchivedRecord:
    headers = (
        ("dlq.error", reason.encode()),
        ("dlq.error.type", b"handler"),
        ("dlq.consumer.group", group.encode()),
        ("trace", None),
    )
    return ArchivedRecord(
        "borderflow.plate-reads.dlq", 0, n, 0, b"cam", b"{}", headers, f"r-{n}", AT
    )


LETTERS = [
    letter(0, "clock-skew: captured_at ... is 2 days ahead", "borderflow-decider"),
    letter(1, "camera_id: unknown camera 'hn-exp-gate-9'", "borderflow-decider"),
    letter(2, "camera_id: unknown camera 'hn-exp-gate-9'", "borderflow-callforward"),
    letter(3, "plate_text: Field required", "borderflow-decider"),
]


def test_the_dead_letters_of_a_reason_and_a_group_are_kept() -> None:
    assert dead_letters_matching(LETTERS) == LETTERS
    assert [r.offset for r in dead_letters_matching(LETTERS, reason="UNKNOWN CAMERA")] == [1, 2]
    assert [r.offset for r in dead_letters_matching(LETTERS, group="borderflow-decider")] == [
        0,
        1,
        3,
    ]
    kept = dead_letters_matching(LETTERS, reason="unknown camera", group="borderflow-decider")
    assert [r.offset for r in kept] == [1]
    assert dead_letters_matching(LETTERS, reason="nothing like it") == []


@pytest.mark.parametrize("given", [{"reason": "camera"}, {"group": "borderflow-decider"}])
def test_the_filters_take_a_dead_letter_topic_only(
    given: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        start=AT,
        end=AT.replace(hour=4),
        topic=None,
        dlq=None,
        to_topic=None,
        rate=0.0,
        dry_run=True,
        reason=None,
        group=None,
    )
    for name, value in given.items():
        setattr(args, name, value)
    assert asyncio.run(main_redrive(Settings(), args)) == 2
    assert "take --dlq" in capsys.readouterr().err
