"""What the receiving side refuses of the other side's messages, as the other side's client
meets it: bare JSON payloads as docs/exchange.md shows them, signed with the sender's key
and sent through a bare aiokafka producer to this side's embedded broker, China's link
receiving (SQLite and PostgreSQL).

- a container whose ISO 6346 check digit is wrong is refused, naming `containers` (it was
  applied: the pattern alone was checked);
- a `from_gate` / `to_gate` that is not the sender's gate / not a crossing of the corridor,
  and an entry at a gate that is not the sender's, are refused naming the field (they were
  applied and recorded as the crossing's gates).

Each refusal is `invalid`, in its place in the sequence: dead-lettered with the reason,
acknowledged, and the next message applied."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.containers import check_digit
from lanes.crossings import Side
from services.db.booking_tables import BookingRow
from services.db.engine import session_factory
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings
from services.xborder import refusals as kept
from services.xborder.config import inbound_topic
from services.xborder.corridor import side_gates_dir
from services.xborder.facts import gate_corridors
from services.xborder.tables import XborderInboxRow, XborderOutboxRow
from streams.xborder import RefusalV1
from streams.xborder_sign import SigningKey, TrustedKeys, sign_payload, verify
from tests.integration.xborder_harness import (
    GateSide,
    control_room_state,
    dead_letters,
    eventually,
    gate_side,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

GOOD_BOX = f"CSQU305438{check_digit('CSQU305438')}"  # CSQU3054383
BAD_BOX = "CSQU3054384"  # the check digit of CSQU305438 is 3


@pytest_asyncio.fixture
async def china(
    database_settings: DatabaseSettings, tmp_path: Path
) -> AsyncIterator[tuple[GateSide, GateSide]]:
    """China's link receiving, with its gate files' corridor (youyiguan <-> huu-nghi), as
    `borderflow xborder link` runs it; Vietnam's broker and key only (the test sends as
    Vietnam)."""
    vn_db = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'vn.db'}")
    async with (
        gate_side(Side.VN, vn_db, tmp_path) as vn,
        gate_side(Side.CN, database_settings, tmp_path) as cn,
    ):
        await cn.start_link(vn, corridors=gate_corridors(side_gates_dir(Side.CN)))
        yield vn, cn


def exit_json(sequence: int, **fields: Any) -> dict[str, Any]:
    """Vietnam's exit as docs/exchange.md writes a message: one flat JSON object."""
    return {
        "attempt": 1,
        "containers": [GOOD_BOX],
        "crossing_id": f"VN:huu-nghi:M-{sequence}",
        "direction": "export",
        "event_time": "2026-12-06T09:40:00+07:00",
        "from_gate": "huu-nghi",
        "message_id": f"VN:exit:v-{sequence}",
        "mode": "road",
        "schema_version": 1,
        "sender": "VN",
        "sequence": sequence,
        "to_gate": "youyiguan",
        "tractor_plate": f"29H1234{sequence}",
        "trailer_plate": None,
        "type": "borderflow.xborder.exit",
    } | fields


def entry_json(sequence: int, crossing_id: str, **fields: Any) -> dict[str, Any]:
    """Vietnam's entry of a Chinese truck at Huu Nghi."""
    return {
        "containers": [],
        "crossing_id": crossing_id,
        "event_time": "2026-12-06T10:20:00+07:00",
        "gate_id": "huu-nghi",
        "message_id": f"VN:entry:v-{sequence}",
        "schema_version": 1,
        "sender": "VN",
        "sequence": sequence,
        "tractor_plate": "桂A·12345",
        "type": "borderflow.xborder.entry",
    } | fields


async def send_all(
    receiver: GateSide,
    key: SigningKey,
    payloads: list[dict[str, Any]],
    *,
    before: int = 0,
    sender: Side = Side.VN,
) -> None:
    """Send `payloads` signed by `sender`'s `key` (after `before` messages sent already) and
    wait until each is in its place at `receiver`."""
    producer = AIOKafkaProducer(bootstrap_servers=receiver.bootstrap)
    await producer.start()
    try:
        for payload in payloads:
            value = sign_payload(json.dumps(payload, ensure_ascii=False).encode(), key)
            await producer.send_and_wait(
                inbound_topic(sender), value=value, key=sender.value.encode()
            )
    finally:
        await producer.stop()

    async def all_received() -> bool:
        return (await receiver.state()).last_received == before + len(payloads)

    await eventually(all_received, timeout_s=30, what="every message in its place")


async def refusals(cn: GateSide) -> dict[int, str | None]:
    async with cn.sessions() as session:
        inbox = (await session.scalars(select(XborderInboxRow))).all()
    return {row.sequence: row.refusal for row in inbox}


async def test_a_container_with_a_wrong_check_digit_is_refused_naming_the_field(
    china: tuple[GateSide, GateSide],
) -> None:
    vn, cn = china
    await send_all(
        cn,
        vn.key,
        [
            exit_json(1),
            exit_json(2, containers=[GOOD_BOX, BAD_BOX]),
            exit_json(3),
            exit_json(4, containers=["csqu 305438-3"]),
        ],
    )
    dead, lower = await dead_letters(cn.bootstrap, f"{inbound_topic(Side.VN)}.dlq", expect=2)
    # written otherwise than the agreement says: told how, not a regular expression
    assert (
        "containers.0: 'csqu 305438-3': write it upper case with no separators, "
        in (lower["dlq.error"])
    ), lower["dlq.error"]
    assert "'CSQU3054383'" in lower["dlq.error"]
    assert dead["dlq.error.type"] == "invalid"
    assert "containers.1" in dead["dlq.error"], dead["dlq.error"]
    assert "'CSQU3054384': check digit is 4, ISO 6346 gives 3" in dead["dlq.error"]
    found = await refusals(cn)
    assert found[1] is None and found[3] is None  # the others applied
    assert found[2] is not None and "check digit" in found[2]
    crossings = {c.crossing_id for c in await cn.crossings()}
    assert crossings == {"VN:huu-nghi:M-1", "VN:huu-nghi:M-3"}


async def test_gates_that_are_not_the_senders_or_not_a_crossing_are_refused(
    china: tuple[GateSide, GateSide],
) -> None:
    vn, cn = china
    await send_all(
        cn,
        vn.key,
        [
            exit_json(1, from_gate="youyiguan"),  # China's gate, in Vietnam's exit
            exit_json(2, to_gate="dongxing"),  # no crossing from huu-nghi to it
            exit_json(3, from_gate="mong-cai", to_gate="youyiguan"),  # not a corridor gate
            entry_json(4, "CN:youyiguan:M-9", gate_id="youyiguan"),  # entry at China's gate
            exit_json(5),
            entry_json(6, "CN:youyiguan:M-9"),
        ],
    )
    dead = await dead_letters(cn.bootstrap, f"{inbound_topic(Side.VN)}.dlq", expect=4)
    reasons = [d["dlq.error"] for d in dead]
    assert {d["dlq.error.type"] for d in dead} == {"invalid"}
    assert "from_gate 'youyiguan' is not a gate of VN" in reasons[0], reasons[0]
    assert "to_gate 'dongxing'" in reasons[1] and "huu-nghi -> youyiguan" in reasons[1]
    assert "from_gate 'mong-cai' is not a gate of VN" in reasons[2], reasons[2]
    assert "gate_id 'youyiguan' is not a gate of VN" in reasons[3], reasons[3]
    found = await refusals(cn)
    assert [n for n, r in sorted(found.items()) if r is None] == [5, 6]
    crossings = {c.crossing_id: c for c in await cn.crossings()}
    assert set(crossings) == {"VN:huu-nghi:M-5", "CN:youyiguan:M-9"}
    assert crossings["CN:youyiguan:M-9"].entry is not None


async def test_refused_messages_are_listed_in_the_control_rooms_state(
    china: tuple[GateSide, GateSide],
) -> None:
    """Every kind of refusal is shown where the operators look, the control room's `GET
    /v1/xborder/state` (and its stream), newest first, with the reason: before, only the
    dead-letter topic had them (read with a Kafka client), and an `invalid` message was
    acknowledged to its sender like any other."""
    vn, cn = china
    topic = inbound_topic(Side.VN)
    first = sign_payload(json.dumps(exit_json(1)).encode(), vn.key)
    records = [
        first,
        sign_payload(json.dumps(exit_json(2, containers=[BAD_BOX])).encode(), vn.key),
        b'{"hello": "not an envelope"}',
        first,  # the same transmission in another record: replayed
        sign_payload(json.dumps(exit_json(5)).encode(), vn.key),  # a gap: reordered
        # parsed, but its header not valid (a string sequence): no place, what it says kept
        sign_payload(json.dumps(exit_json(6) | {"sequence": "6"}).encode(), vn.key),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=cn.bootstrap)
    await producer.start()
    try:
        for value in records:
            await producer.send_and_wait(topic, value=value, key=b"VN")
    finally:
        await producer.stop()
    dead = await dead_letters(cn.bootstrap, f"{topic}.dlq", expect=5)  # the DLQ still has them
    kinds = ["invalid", "unsigned", "replayed", "reordered", "invalid"]
    assert [d["dlq.error.type"] for d in dead] == kinds

    body = await control_room_state(cn.sessions, gate="youyiguan")
    headless, *refused = body["refused"]
    assert [r["kind"] for r in refused] == ["reordered", "replayed", "unsigned", "invalid"]
    assert body["link"]["refused"] == 5
    # listed as '(unreadable)' before: its id, type and crossing can be read
    assert (headless["kind"], headless["message_id"]) == ("invalid", "VN:exit:v-6")
    assert headless["type"] == "borderflow.xborder.exit"
    assert headless["crossing_id"] == "VN:huu-nghi:M-6" and headless["sequence"] is None
    assert "exit.sequence: Input should be a valid integer" in headless["reason"]
    assert headless["acknowledged"] is False  # no place in the sequence, no ack
    invalid = refused[-1]
    assert invalid["message_id"] == "VN:exit:v-2" and invalid["sequence"] == 2
    assert invalid["type"] == "borderflow.xborder.exit"
    assert invalid["crossing_id"] == "VN:huu-nghi:M-2" and invalid["sender"] == "VN"
    assert "check digit is 4, ISO 6346 gives 3" in invalid["reason"]
    assert invalid["acknowledged"] is True  # taken in its place: its sender holds an ack
    assert refused[0]["message_id"] == "VN:exit:v-5" and "expected 3" in refused[0]["reason"]
    assert refused[0]["acknowledged"] is False
    assert refused[2]["message_id"] is None and refused[2]["record"].startswith(topic)
    assert all(r["at"] and r["record"] for r in refused)
    # and each is told to Vietnam, a signed refusal naming it, but the record that names
    # no message (nothing to name); the sender was told nothing before
    told = await _refusals_sent(cn)
    assert [(t.refused_message_id, t.kind) for t in told] == [
        ("VN:exit:v-2", "invalid"),
        ("VN:exit:v-1", "replayed"),
        ("VN:exit:v-5", "reordered"),
        ("VN:exit:v-6", "invalid"),
    ]
    assert "check digit is 4, ISO 6346 gives 3" in told[0].reason
    assert (told[0].refused_sequence, told[3].refused_sequence) == (2, None)


async def _refusals_sent(side: GateSide) -> list[RefusalV1]:
    """The refusals `side` queued for the other side, in order, as signed."""
    async with side.sessions() as session:
        rows = await session.scalars(
            select(XborderOutboxRow)
            .where(XborderOutboxRow.message_type == "borderflow.xborder.refusal")
            .order_by(XborderOutboxRow.sequence)
        )
        told = [verify(r.envelope.encode(), TrustedKeys.of(side.key.trusted())) for r in rows]
    assert all(isinstance(t, RefusalV1) for t in told)
    return told  # type: ignore[return-value]


def notice_json(sequence: int, **fields: Any) -> dict[str, Any]:
    """China's notice of a truck bound for Huu Nghi, as docs/exchange.md writes it."""
    return {
        "attempt": 1,
        "booked_slot_end": "2026-12-06T20:00:00+07:00",
        "booked_slot_start": "2026-12-06T19:00:00+07:00",
        "cargo_classes": ["container"],
        "containers": [GOOD_BOX],
        "crossing_id": f"CN:youyiguan:M-{sequence}",
        "direction": "import",
        "event_time": "2026-12-06T16:40:00+08:00",
        "from_gate": "youyiguan",
        "hazmat_class": None,
        "message_id": f"CN:notice:v-{sequence}",
        "perishable": False,
        "schema_version": 1,
        "sender": "CN",
        "sequence": sequence,
        "to_gate": "huu-nghi",
        "tractor_plate": f"桂A·1234{sequence}",
        "trailer_plate": None,
        "type": "borderflow.xborder.pre-arrival-notice",
    } | fields


async def test_a_booked_slot_that_ends_before_it_starts_or_has_no_end_is_refused(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """China's notices to Vietnam's link: a slot ending before it starts was applied, the
    crossing recorded with it and a slot booked; a slot with a start and no end too."""
    cn_db = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'cn.db'}")
    async with (
        gate_side(Side.CN, cn_db, tmp_path) as cn,
        gate_side(Side.VN, database_settings, tmp_path) as vn,
    ):
        await vn.start_link(cn, corridors=gate_corridors(side_gates_dir(Side.VN)))
        notices = [
            notice_json(1, booked_slot_end="2026-12-06T18:00:00+07:00"),
            notice_json(2, booked_slot_end=None),
            notice_json(3),
        ]
        await send_all(vn, cn.key, notices, sender=Side.CN)
        dead = await dead_letters(vn.bootstrap, f"{inbound_topic(Side.CN)}.dlq", expect=2)
        reasons = [d["dlq.error"] for d in dead]
        assert (
            "booked_slot_end 2026-12-06T18:00:00+07:00 is not after booked_slot_start"
            in (reasons[0])
        ), reasons[0]
        assert "booked_slot_end: missing" in reasons[1], reasons[1]
        crossings = {c.crossing_id for c in await vn.crossings()}
        assert crossings == {"CN:youyiguan:M-3"}


def documented_notice() -> dict[str, Any]:
    """China's notice as docs/exchange.md shows it (the JSON block after 'as
    `outgoing_payload` writes it')."""
    text = (Path(__file__).parents[2] / "docs" / "exchange.md").read_text()
    after = text.split("as `outgoing_payload` writes it:", 1)[1]
    block = after.split("```json\n", 1)[1].split("\n```", 1)[0]
    notice: dict[str, Any] = json.loads(block)
    return notice


async def test_the_documented_notice_is_applied_and_its_slot_booked(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A stranger copies the page's example (its sequence put first): it is applied, and
    its slot is booked at Huu Nghi. The example's notice came after the slot's bookings
    closed (16:40 +08:00 is 15:40 +07:00, after the 15:30 cut-off of a 16:00 slot): the
    link logged 'booked slot ... not held'. The same notice with a 30-minute slot is
    refused naming booked_slot_end (it was booked as Huu Nghi's 60-minute slot)."""
    cn_db = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'cn.db'}")
    async with (
        gate_side(Side.CN, cn_db, tmp_path) as cn,
        gate_side(Side.VN, database_settings, tmp_path) as vn,
    ):
        await vn.start_link(
            cn, corridors=gate_corridors(side_gates_dir(Side.VN)), gates=default_gates()
        )
        notice = documented_notice() | {"sequence": 1}
        # a 30-minute slot at Huu Nghi, whose slots are 60 minutes: booked as Huu Nghi's
        # 16:00-17:00 in silence before; refused now, naming the field
        half = notice | {
            "sequence": 2,
            "message_id": "CN:notice:v-half",
            "crossing_id": "CN:youyiguan:M-half",
            "booked_slot_end": "2026-12-06T16:30:00+07:00",
        }
        await send_all(vn, cn.key, [notice, half], sender=Side.CN)
        found = await refusals(vn)
        assert found[1] is None
        assert found[2] is not None and found[2].startswith(
            "invalid: booked_slot_end 2026-12-06T16:30:00+07:00: the slot is 30 min, "
            "huu-nghi's slots are 60 min"
        ), found[2]
        async with vn.sessions() as session:
            booked = (
                await session.scalars(
                    select(BookingRow).where(
                        BookingRow.manifest_id.in_(
                            [f"xb-{n['crossing_id']}" for n in (notice, half)]
                        )
                    )
                )
            ).all()
        assert [(b.gate_id, b.slot_start) for b in booked] == [
            ("huu-nghi", datetime.fromisoformat(notice["booked_slot_start"]))
        ]


async def test_an_ack_of_an_ack_is_refused_naming_it(china: tuple[GateSide, GateSide]) -> None:
    """Nothing acknowledges an ack (docs/exchange.md): Vietnam's ack of China's ack of its
    exit was applied in silence, marking China's ack acknowledged, so a peer building its
    acks wrong never learnt it."""
    vn, cn = china
    ack_of_ack = {
        "acked_message_id": "CN:ack-VN:exit:v-1",
        "acked_sequence": 1,
        "crossing_id": "VN:huu-nghi:M-1",
        "event_time": "2026-12-06T09:41:00+07:00",
        "message_id": "VN:ack-CN:ack-VN:exit:v-1",
        "schema_version": 1,
        "sender": "VN",
        "sequence": 2,
        "type": "borderflow.xborder.ack",
    }
    await send_all(cn, vn.key, [exit_json(1)])
    await send_all(cn, vn.key, [ack_of_ack], before=1)  # once China acknowledged the exit
    [dead] = await dead_letters(cn.bootstrap, f"{inbound_topic(Side.VN)}.dlq", expect=1)
    assert dead["dlq.error.type"] == "invalid"
    assert (
        "acked_message_id 'CN:ack-VN:exit:v-1' is an ack: acks are not acknowledged"
        in (dead["dlq.error"])
    ), dead["dlq.error"]
    [told] = await _refusals_sent(cn)  # and Vietnam is told so
    assert (told.refused_message_id, told.kind) == ("VN:ack-CN:ack-VN:exit:v-1", "invalid")
    assert told.reason == dead["dlq.error"]


async def test_the_refusals_kept_are_bounded(engine: AsyncEngine) -> None:
    """A flood of forged records (each refused, each kept for the control room) cannot
    grow the table without end: the latest `keep` are kept (it grew for ever before)."""
    sessions = session_factory(engine)
    for n in range(5):
        one = kept.Refusal(
            kind="unsigned",
            reason="unsigned: empty message",
            source=f"borderflow.xborder.from-cn:0:{n}",
            sender="CN",
        )
        async with sessions() as session, session.begin():
            await kept.record(session, [one], now=datetime.now(UTC), keep=3)
    async with sessions() as session:
        total, latest = await kept.latest(session, limit=10)
    assert total == 3
    assert [r.source.rsplit(":", 1)[1] for r in latest] == ["4", "3", "2"]
