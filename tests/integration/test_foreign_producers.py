"""Producers that are not borderflow's own (a Java or Go camera gateway, a customs broker's
manifest system, Kafka Connect) with real clients against the broker: every compression
codec a standard producer may use is read (aiokafka and librdkafka producers), and a
record of any shape (headers, no key, a key that is not UTF-8, no value, an empty value)
is either processed or dead-lettered with the reason, never a stalled partition."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from confluent_kafka import Producer

from services.archive.records import ArchivedRecord
from services.archive.store import records_in_range
from services.bootstrap import build_archiver
from services.db.manifests import get_manifest
from services.replay.inputs import read_topics
from services.runtime.settings import DatabaseSettings, KafkaSettings
from streams.clients import consumer_kwargs
from streams.metrics import EVENTS_MISKEYED
from streams.topics import LANE_DECISIONS, MANIFESTS, PLATE_READS, dead_letter_topic
from tests.integration.harness import (
    collect,
    collect_to_end,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    manifest_form,
    read,
    running_manifest_intake,
    running_system,
    seed,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SENT_MS = int(T0.timestamp() * 1000) + 500
CODECS = ("gzip", "snappy", "lz4", "zstd")


async def _send_aiokafka(
    bootstrap: str, topic: str, messages: Sequence[tuple[bytes | None, bytes | None]], codec: str
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value=value, key=key, timestamp_ms=SENT_MS)
    finally:
        await producer.stop()


def _send_librdkafka(
    bootstrap: str, topic: str, messages: Sequence[tuple[bytes | None, bytes | None]], codec: str
) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "compression.codec": codec})
    for key, value in messages:
        producer.produce(topic, key=key, value=value, timestamp=SENT_MS)
    assert producer.flush(30) == 0


async def test_plate_reads_in_every_codec_are_decided(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A read in a gzip, snappy, lz4 or zstd batch, from aiokafka and from librdkafka
    (Java's and Go's producers write the same batches), gets its decision."""
    plates = [f"29H1234{i}" for i in range(2 * len(CODECS))]
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(
                system.infra,
                *(manifest(f"MF-{i}", plate) for i, plate in enumerate(plates)),
                now=T0,
            )
            for i, codec in enumerate(CODECS):
                rdk = read(f"rdk-{codec}", plates[2 * i + 1], T0, camera="hn-exp-gate-2")
                _send_librdkafka(
                    broker.bootstrap,
                    PLATE_READS.name,
                    [(b"hn-exp-gate-2", json.dumps(rdk).encode())],
                    codec,
                )
                aio = read(f"aio-{codec}", plates[2 * i], T0)
                await _send_aiokafka(
                    broker.bootstrap,
                    PLATE_READS.name,
                    [(b"hn-exp-gate-1", json.dumps(aio).encode())],
                    codec,
                )
            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=len(plates))
            )
            assert system.runtime.stats.dead_lettered == 0
    decided = {d["read_event_ids"][0]: d["manifest_id"] for d in decisions}
    assert decided == {
        **{f"aio-{codec}": f"MF-{2 * i}" for i, codec in enumerate(CODECS)},
        **{f"rdk-{codec}": f"MF-{2 * i + 1}" for i, codec in enumerate(CODECS)},
    }


async def test_manifests_in_every_codec_are_stored(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A manifest in a gzip, snappy, lz4 or zstd batch is stored, its plate written as a
    Vietnamese customs system writes the series LD (`29LĐ-123.45`, dead-lettered as
    neither a Vietnamese nor a Chinese plate until 2026-12-06) stored as `29LD12345`."""
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_manifest_intake(settings) as system:
            for codec in CODECS:
                for client in ("aio", "rdk"):
                    mid = f"MF-{client}-{codec}"
                    form = manifest_form(mid, tractor_plate="29LĐ-123.45")
                    message = [(mid.encode(), json.dumps(form, ensure_ascii=False).encode())]
                    if client == "rdk":
                        _send_librdkafka(broker.bootstrap, MANIFESTS.name, message, codec)
                    else:
                        await _send_aiokafka(broker.bootstrap, MANIFESTS.name, message, codec)

            async def all_stored() -> bool:
                return system.intake.stats["created"] >= 2 * len(CODECS)

            await wait_until(all_stored, timeout=60)
            async with system.infra.sessions() as session:
                for codec in CODECS:
                    for client in ("aio", "rdk"):
                        mid = f"MF-{client}-{codec}"
                        stored = await get_manifest(
                            session=session, firm_id="firm-01", manifest_id=mid
                        )
                        assert stored is not None, mid
                        assert stored.manifest.tractor_plate == "29LD12345", mid
            assert system.runtime.stats.dead_lettered == 0


async def test_records_of_any_shape_are_decided_or_dead_lettered(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """Headers, no key, a key that is not UTF-8: decided. No value (a tombstone, as Kafka
    Connect sends for a deletion) and an empty value: dead-lettered with the reason. The
    read behind them on the same partition is decided: nothing stalls. The archiver keeps
    every one as it came."""
    good = [read(f"shape-{i}", f"29H5432{i}", T0) for i in range(3)]
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            _, archiving = build_archiver(system.infra)
            archiver = asyncio.create_task(archiving.run(system.stop))
            await asyncio.wait_for(archiving.ready.wait(), timeout=20)
            await seed(
                system.infra,
                *(manifest(f"MF-{i}", f"29H5432{i}") for i in range(3)),
                now=T0,
            )
            producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
            one = 0  # every record on one partition: a stall would hold the last read
            headers: list[tuple[str, str | bytes | None]] = [
                ("traceparent", b"00-abc-01"),
                ("binary", b"\xff\x00"),
                ("empty", None),
            ]
            shapes: list[tuple[bytes | None, bytes | None, list[tuple[str, str | bytes | None]]]]
            shapes = [
                (b"\xff\xfecam", json.dumps(good[0]).encode(), headers),
                (None, None, []),
                (b"hn-exp-gate-1", b"", []),
                (None, json.dumps(good[1]).encode(), []),
                (b"\x80", None, headers),
                (b"hn-exp-gate-1", json.dumps(good[2]).encode(), []),
            ]
            for key, value, record_headers in shapes:
                producer.produce(
                    PLATE_READS.name,
                    key=key,
                    value=value,
                    partition=one,
                    timestamp=SENT_MS,
                    headers=record_headers,
                )
            assert producer.flush(30) == 0
            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=3)
            )
            dead = await collect(broker.bootstrap, dead_letter_topic(PLATE_READS.name), expect=3)

            async def all_archived() -> bool:
                return len(await _archived_reads(system.infra)) >= len(shapes)

            await wait_until(all_archived, timeout=30)
            kept = sorted(await _archived_reads(system.infra), key=lambda r: r.offset)
            system.stop.set()
            await asyncio.wait_for(archiver, timeout=20)
    assert [(r.key, r.value) for r in kept] == [(key, value) for key, value, _ in shapes]
    # headers as sent, a null value null (archived as b"" until 2026-12-06: a redrive from
    # the archive then sent an empty value where the producer had sent none)
    assert kept[0].headers == (
        ("traceparent", b"00-abc-01"),
        ("binary", b"\xff\x00"),
        ("empty", None),
    )
    assert sorted(d["read_event_ids"][0] for d in decisions) == ["shape-0", "shape-1", "shape-2"]
    reasons = [dict(r.headers)["dlq.error"].decode() for r in dead]
    assert len(dead) == 3, reasons
    assert [r.key for r in dead] == [None, b"hn-exp-gate-1", b"\x80"]
    assert all("tombstone" in reasons[i] for i in (0, 2)), reasons
    assert reasons[1].startswith(("invalid JSON", "empty message value")), reasons
    # neither key nor value: nothing to copy, the dead letter says where the record is
    assert json.loads(dead[0].value)["reference"]["offset"] == 1
    assert dict(dead[0].headers)["dlq.value"] == b"reference"
    assert (dead[1].value, dead[2].value) == (b"", None)  # the others as they were
    assert dict(dead[2].headers)["binary"] == b"\xff\x00"


async def test_an_aborted_transaction_is_not_decided(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A gateway writing in transactions (exactly-once on) that aborts one: its reads are
    never decided, the committed one is. Tansu 0.6.0 has no transactions (aiokafka's
    InitProducerId fails, librdkafka's aborted records are served as committed): skipped
    there, run against Apache Kafka (BORDERFLOW_TEST_KAFKA_BOOTSTRAP); that every consumer
    asks for read_committed is tests/unit/test_runtime_foreign_records.py."""
    async with fresh_broker(tmp_path) as broker:
        producer = AIOKafkaProducer(
            bootstrap_servers=broker.bootstrap, transactional_id="gateway-tx-1"
        )
        try:
            await asyncio.wait_for(producer.start(), timeout=30)
        except (KafkaError, TimeoutError) as exc:
            await producer.stop()
            pytest.skip(f"the broker does not support transactions ({type(exc).__name__})")
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        try:
            async with running_system(settings) as system:
                await seed(
                    system.infra,
                    manifest("MF-1", "29H12345"),
                    manifest("MF-2", "29H54321"),
                    now=T0,
                )
                await producer.begin_transaction()
                aborted = read("tx-aborted", "29H12345", T0)
                await producer.send(
                    PLATE_READS.name, json.dumps(aborted).encode(), b"hn-exp-gate-1"
                )
                await producer.abort_transaction()
                async with producer.transaction():
                    committed = read("tx-committed", "29H54321", T0)
                    await producer.send(
                        PLATE_READS.name, json.dumps(committed).encode(), b"hn-exp-gate-1"
                    )
                # behind the aborted read on its partition: decided after it, were it decided
                decisions = decision_payloads(
                    await collect(broker.bootstrap, LANE_DECISIONS.name, until=_has_committed)
                )
        finally:
            await producer.stop()
    assert [d["read_event_ids"] for d in decisions] == [["tx-committed"]]


def _has_committed(records: list[Any]) -> bool:
    return any(d["read_event_ids"] == ["tx-committed"] for d in decision_payloads(records))


async def test_a_manifest_not_keyed_by_its_id_is_filed_and_counted(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """The topic's key is the manifest_id: only it keeps a manifest's versions on one
    partition, in order. Keyed by the firm, by nothing (Kafka Connect's default, a script's
    bare send), by bytes that are not UTF-8 or by the id with blanks around it, a manifest
    is filed all the same and counted in `borderflow_events_miskeyed` (for 40 minutes on
    2026-12-06 it was dead-lettered: every bare client's manifest refused for its key)."""
    wrong = [
        (b"firm-01", manifest_form("MF-1")),
        (None, manifest_form("MF-2")),
        (b"\xffMF-3", manifest_form("MF-3")),
        (b" MF-4 ", manifest_form(" MF-4 ")),
    ]
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_manifest_intake(settings) as system:
            counter = EVENTS_MISKEYED.labels(MANIFESTS.name, system.intake.group_id)
            before = counter._value.get()
            messages = [(key, json.dumps(form).encode()) for key, form in wrong]
            messages.append((b"MF-5", json.dumps(manifest_form(" MF-5 ")).encode()))
            await _send_aiokafka(broker.bootstrap, MANIFESTS.name, messages, "lz4")

            async def filed() -> bool:
                return system.intake.stats["created"] >= 5

            await wait_until(filed)
            async with system.infra.sessions() as session:
                stored = {
                    mid: await get_manifest(session=session, firm_id="firm-01", manifest_id=mid)
                    for mid in ("MF-1", "MF-2", "MF-3", "MF-4", "MF-5")
                }
    assert all(found is not None for found in stored.values()), stored
    assert counter._value.get() == before + 4


# A Go gateway's record whose header key is not UTF-8 (Go's clients take any bytes for one):
# written by aiokafka's pure-Python record builder, told the key's bytes are b"\xff\xfe".
# argv: bootstrap, topic, then JSON [[partition, [value, ...]], ...]: one batch a list.
_GO_LIKE_PRODUCER = r"""
import asyncio, json, sys
from aiokafka import AIOKafkaProducer

class RawKey(str):
    def encode(self, *args, **kwargs):
        return b"\xff\xfe"

async def main():
    producer = AIOKafkaProducer(bootstrap_servers=sys.argv[1], linger_ms=50)
    await producer.start()
    try:
        for partition, values in json.loads(sys.argv[3]):
            sent = []
            for value in values:
                poisoned = value.startswith("poison:")
                headers = [(RawKey("xx"), b"v")] if poisoned else []
                body = value.removeprefix("poison:").encode()
                sent.append(await producer.send(
                    sys.argv[2], body, key=b"hn-exp-gate-1", partition=partition,
                    headers=headers, timestamp_ms=int(sys.argv[4]),
                ))
            await asyncio.gather(*sent)
    finally:
        await producer.stop()

asyncio.run(main())
"""


async def test_a_record_the_client_cannot_parse_is_dead_lettered_and_the_rest_decided(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A header key that is not UTF-8 made aiokafka raise on every fetch of its partition
    (UnicodeDecodeError), which stopped the decider, and again on every restart. Now the
    record, and the one behind it in its batch (aiokafka parses a batch from its start),
    are dead-lettered by reference with the reason, and every other read is decided. The
    archiver, which also reads the topic, skips them: one dead letter a record."""
    reads = [read(f"go-{i}", f"29H6543{i}", T0) for i in range(5)]
    plan = [
        [0, [json.dumps(reads[0])]],
        [0, [f"poison:{json.dumps(reads[1])}", json.dumps(reads[2])]],  # one batch
        [0, [json.dumps(reads[3])]],
        [1, [json.dumps(reads[4])]],
    ]
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            _, archiving = build_archiver(system.infra)
            archiver = asyncio.create_task(archiving.run(system.stop))
            await asyncio.wait_for(archiving.ready.wait(), timeout=20)
            await seed(
                system.infra,
                *(manifest(f"MF-{i}", f"29H6543{i}") for i in range(5)),
                now=T0,
            )
            await _send_go_like(broker.bootstrap, plan)
            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=3)
            )
            dead = await collect(broker.bootstrap, dead_letter_topic(PLATE_READS.name), expect=2)
            assert not system.task.done()  # the decider kept going

            async def archived_past_them() -> bool:  # go-3 lies behind them on partition 0
                offsets = sorted(r.offset for r in await _archived_reads(system.infra))
                return archiving.stats.skipped_unreadable == 2 and offsets == [0, 0, 3]

            await wait_until(archived_past_them, timeout=30)
            everything = await collect_to_end(broker.bootstrap, dead_letter_topic(PLATE_READS.name))
            kept = await _archived_reads(system.infra)
            system.stop.set()
            await asyncio.wait_for(archiver, timeout=20)
    assert len(everything) == 2  # the decider's: none of the archiver's own
    assert sorted(d["read_event_ids"][0] for d in decisions) == ["go-0", "go-3", "go-4"]
    assert sorted(r.offset for r in kept) == [0, 0, 3]  # go-0, go-3, and go-4 on partition 1
    where = [json.loads(r.value)["reference"] for r in dead]
    assert [(w["partition"], w["offset"]) for w in where] == [(0, 1), (0, 2)]
    for record in dead:
        headers = dict(record.headers)
        assert headers["dlq.error.type"] == b"unreadable"
        assert headers["dlq.error"].startswith(b"unreadable: "), headers["dlq.error"]
        assert headers["dlq.value"] == b"reference"


async def _archived_reads(infra: Any) -> list[ArchivedRecord]:
    async with infra.sessions() as session:
        return list(
            await records_in_range(
                session=session,
                start=datetime(1969, 1, 1, tzinfo=UTC),
                end=datetime(2200, 1, 1, tzinfo=UTC),
                topics=[PLATE_READS.name],
            )
        )


async def _send_go_like(bootstrap: str, plan: list[list[Any]]) -> None:
    """`plan` to the plate reads by `_GO_LIKE_PRODUCER`, in a process of its own (aiokafka's
    pure-Python records there, its C ones here)."""
    sent = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _GO_LIKE_PRODUCER,
        bootstrap,
        PLATE_READS.name,
        json.dumps(plan),
        str(SENT_MS),
        env=os.environ | {"AIOKAFKA_NO_EXTENSIONS": "1"},
    )
    assert await asyncio.wait_for(sent.wait(), timeout=60) == 0


async def test_replay_and_redrive_read_past_a_record_the_client_cannot_parse(
    tmp_path: Path,
) -> None:
    """`borderflow replay --source kafka` and `borderflow redrive --dlq` read a topic
    through `read_topics`: an unreadable record (and the one behind it in its batch) is
    skipped with a warning, the others read; it raised UnicodeDecodeError out of the
    command before."""
    plan = [
        [0, ["a"]],
        [0, ["poison:b", "c"]],  # one batch: c cannot be read either
        [0, ["d"]],
        [1, ["e"]],
    ]
    async with fresh_broker(tmp_path) as broker:
        await _send_go_like(broker.bootstrap, plan)
        settings = KafkaSettings(bootstrap=broker.bootstrap, fetch_max_wait_ms=20)
        records = await asyncio.wait_for(
            read_topics(consumer_kwargs(settings, broker.bootstrap), [PLATE_READS.name]),
            timeout=60,
        )
    assert sorted(r.value or b"" for r in records) == [b"a", b"d", b"e"]
