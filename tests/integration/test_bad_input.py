"""Bad input loses nothing: every malformed message lands in the dead-letter topic with the
reason and its source coordinates, and the worker keeps going. A third-party producer
(librdkafka via confluent-kafka) publishing plain JSON is decided like any camera."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from confluent_kafka import Producer

from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS, PLATE_READS, dead_letter_topic
from tests.integration.harness import (
    collect,
    decision_payloads,
    envelope,
    fresh_broker,
    make_settings,
    manifest,
    read,
    running_system,
    seed,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90), pytest.mark.faults]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SENT_MS = int(T0.timestamp() * 1000) + 500


async def test_malformed_messages_go_to_the_dead_letter_topic_with_the_reason(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    bad_schema = read("bad-1", "29H12345", T0) | {"confidence": 1.5}
    naive_time = read("bad-2", "29H12345", T0) | {"captured_at": "2026-11-23T08:00:00"}
    unknown_camera = read("bad-3", "29H12345", T0, camera="cam-nowhere")
    wrong_version = envelope(read("bad-4", "29H12345", T0)) | {"version": 9}
    epoch_number = read("bad-5", "29H12345", T0) | {"captured_at": 1795420800}
    epoch_text = read("bad-6", "29H12345", T0) | {"captured_at": "1795420800"}
    text_confidence = read("bad-7", "29H12345", T0) | {"confidence": "0.93"}
    bool_confidence = read("bad-8", "29H12345", T0) | {"confidence": True}
    years_ahead = read("bad-9", "29H12345", T0.replace(year=2036))  # sent at T0
    # year 1 at +07:00 does not even convert to UTC: it stopped the decider's partition
    year_one = read("bad-10", "29H12345", T0) | {"captured_at": "0001-01-01T00:00:00+07:00"}
    epoch = read("bad-11", "29H12345", T0) | {"captured_at": "1970-01-01T00:00:00Z"}
    cases = [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"event_id": "x", ', "invalid JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (json.dumps(bad_schema).encode(), "confidence"),
        (json.dumps(naive_time).encode(), "captured_at"),
        (json.dumps(unknown_camera).encode(), "unknown camera 'cam-nowhere'"),
        (json.dumps(wrong_version).encode(), "unsupported plate_read version 9"),
        (json.dumps(epoch_number).encode(), "captured_at"),
        (json.dumps(epoch_text).encode(), "captured_at"),
        (json.dumps(text_confidence).encode(), "confidence"),
        (json.dumps(bool_confidence).encode(), "confidence"),
        (json.dumps(years_ahead).encode(), "clock-skew: captured_at 2036-11-23T08:00:00+00:00"),
        (json.dumps(year_one).encode(), "captured_at"),
        (json.dumps(epoch).encode(), "captured_at"),
    ]
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
            await producer.start()
            try:
                for value, _ in cases:
                    await producer.send_and_wait(
                        PLATE_READS.name,
                        value=value,
                        key=b"k",
                        headers=[("trace", b"t-1")],
                        timestamp_ms=SENT_MS,  # the camera gateway's clock at T0
                    )
                good = json.dumps(read("good-1", "29H-123.45", T0)).encode()
                await producer.send_and_wait(
                    PLATE_READS.name, value=good, key=b"hn-exp-gate-1", timestamp_ms=SENT_MS
                )
            finally:
                await producer.stop()

            dead = await collect(
                broker.bootstrap, dead_letter_topic(PLATE_READS.name), expect=len(cases)
            )
            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            )

    assert [r.value for r in dead] == [value for value, _ in cases]  # original bytes, in order
    for record, (_, expected_reason) in zip(dead, cases, strict=True):
        headers = {k: v.decode() for k, v in record.headers}
        assert expected_reason in headers["dlq.error"], headers["dlq.error"]
        assert headers["dlq.source.topic"] == PLATE_READS.name
        assert int(headers["dlq.source.offset"]) >= 0
        assert headers["dlq.source.partition"].isdigit()
        assert headers["trace"] == "t-1"  # the producer's own headers are kept
        assert record.key == b"k"
    assert [d["read_event_ids"] for d in decisions] == [["good-1"]]  # the worker kept going
    assert system.runtime.stats.dead_lettered == len(cases)


async def test_plain_json_from_a_librdkafka_producer_is_decided(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-9", "12C12345"), now=T0)
            producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
            payload = read("rdk-1", "12C-123.45", T0, camera="hn-exp-gate-2")
            payload["candidates"] = [{"text": "12C-123.45", "confidence": 0.9}]
            producer.produce(PLATE_READS.name, key=b"hn-exp-gate-2", value=json.dumps(payload))
            assert producer.flush(10) == 0
            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            )
    assert len(decisions) == 1
    assert decisions[0]["manifest_id"] == "MF-9"
    assert decisions[0]["outcome"] == "assigned"


async def test_a_value_over_the_size_limit_is_dead_lettered_by_reference_and_skipped(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A 1 MiB value (over `max_message_bytes`, under the topics' limit) from a third-party
    producer, followed on its partition by valid reads: the big one goes to the dead-letter
    topic as a reference (where it is, how big, why), the reads behind it are decided. It
    used to fail the dead-letter send (over the producer's request size) and restart the
    consumer on it forever."""
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            producer = Producer(
                {"bootstrap.servers": broker.bootstrap, "message.max.bytes": 4_000_000}
            )
            huge = b"{" + b" " * (2**20 - 2) + b"}"
            producer.produce(PLATE_READS.name, key=b"hn-exp-gate-1", value=huge)
            after = read("after-1", "29H-123.45", T0)
            producer.produce(PLATE_READS.name, key=b"hn-exp-gate-1", value=json.dumps(after))
            assert producer.flush(10) == 0
            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            )
            dead = await collect(broker.bootstrap, dead_letter_topic(PLATE_READS.name), expect=1)
    assert [d["read_event_ids"] for d in decisions] == [["after-1"]]
    assert len(dead) == 1
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert headers["dlq.error.type"] == "too_large"
    assert headers["dlq.value"] == "reference"
    assert headers["dlq.original.size"] == str(2**20)
    assert "too-large: 1048576 bytes > 1000000" in headers["dlq.error"]
    reference = json.loads(dead[0].value)["reference"]
    assert reference["topic"] == PLATE_READS.name
    assert reference["size"] == 2**20
    assert reference["offset"] == int(headers["dlq.source.offset"]) >= 0
    assert dead[0].key == b"hn-exp-gate-1"


async def test_a_conflicting_duplicate_is_dead_lettered_an_identical_one_is_not(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """The same `event_id` again: an identical re-send (another offset for the same instant
    included) changes nothing, silently; other content is a bug or tampering upstream and
    goes to the dead-letter topic as `conflicting-duplicate`, the first version kept. Both
    across batches (against the database) and within one batch."""
    first = read("dup-1", "29H-123.45", T0)
    same_instant = first | {"captured_at": "2026-11-23T15:00:00+07:00"}
    changed = first | {"plate_text": "29H-999.99"}
    other = read("dup-2", "29H-123.45", T0.replace(minute=1))
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            producer = Producer({"bootstrap.servers": broker.bootstrap})
            producer.produce(PLATE_READS.name, key=b"hn-exp-gate-1", value=json.dumps(first))
            assert producer.flush(10) == 0
            await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            for value in (same_instant, changed, other, changed | {"confidence": 0.5}):
                producer.produce(PLATE_READS.name, key=b"hn-exp-gate-1", value=json.dumps(value))
            assert producer.flush(10) == 0
            dead = await collect(
                broker.bootstrap, dead_letter_topic(PLATE_READS.name), expect=2, timeout=10
            )
            await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            stats = system.runtime.stats
    assert len(dead) == 2
    for record in dead:
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["dlq.error.type"] == "conflicting_duplicate"
        assert headers["dlq.error"].startswith("conflicting-duplicate: event_id 'dup-1'")
        assert json.loads(record.value)["plate_text"] == "29H-999.99"  # bytes unaltered
    assert stats.dead_letter_reasons == {"conflicting_duplicate": 2}
