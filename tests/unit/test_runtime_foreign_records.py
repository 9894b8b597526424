"""Records from producers that are not borderflow's (a Java or Go gateway, Kafka Connect):
every consumer reads committed records only (an aborted transaction's records are never
acted on), a record with neither key nor value is dead-lettered, by reference, instead of
stopping the worker (aiokafka refuses to send such a record as it is), and a consumer that
could not read a compression codec refuses to start instead of stalling on the first batch
in it."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any, cast

import aiokafka.codec
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from services.control import hub
from streams.errors import BrokerError
from streams.runtime import ConsumerRuntime
from streams.settings import KafkaSettings


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, topic: str, **kwargs: Any) -> asyncio.Future[None]:
        # aiokafka's own check, as its producer makes it
        assert not (kwargs.get("value") is None and kwargs.get("key") is None)
        self.sent.append({"topic": topic, **kwargs})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def runtime(producer: RecordingProducer) -> ConsumerRuntime[str]:
    return ConsumerRuntime(
        settings=KafkaSettings(),
        bootstrap="unused:9092",
        topics=["t"],
        group_id="g",
        decode=lambda record: "x",
        handle=lambda batch: asyncio.sleep(0),
        producer=cast(AIOKafkaProducer, producer),
    )


def record(key: bytes | None, value: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(
        topic="t",
        partition=2,
        offset=7,
        timestamp=1_795_420_800_000,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=-1 if key is None else len(key),
        serialized_value_size=-1 if value is None else len(value),
        headers=[("traceparent", b"00-abc-01")],
    )


async def test_a_record_with_neither_key_nor_value_is_dead_lettered_by_reference() -> None:
    producer = RecordingProducer()
    reason = "empty message value (tombstone): a plate read needs a JSON body"
    await runtime(producer)._dead_letter([(record(None, None), reason, "invalid_event")])
    [sent] = producer.sent
    assert sent["topic"] == "t.dlq"
    assert sent["key"] is None
    body = json.loads(sent["value"])
    assert body["reference"] | {"timestamp_ms": 0} == {
        "topic": "t",
        "partition": 2,
        "offset": 7,
        "timestamp_ms": 0,
        "size": 0,
    }
    assert body["reason"] == reason
    headers = dict(sent["headers"])
    assert headers["dlq.value"] == b"reference"
    assert headers["dlq.error"] == reason.encode()


async def test_a_tombstone_with_a_key_is_dead_lettered_as_it_is() -> None:
    producer = RecordingProducer()
    await runtime(producer)._dead_letter([(record(b"cam-1", None), "no value", "invalid_event")])
    [sent] = producer.sent
    assert (sent["key"], sent["value"]) == (b"cam-1", None)
    assert dict(sent["headers"])["traceparent"] == b"00-abc-01"


async def test_the_consumer_runtime_reads_committed_records_only() -> None:
    consumer = runtime(RecordingProducer())._consumer()
    assert consumer._isolation_level == "read_committed"


async def test_the_control_room_feed_reads_committed_records_only(monkeypatch: Any) -> None:
    made: list[dict[str, Any]] = []
    stop = asyncio.Event()

    class FakeConsumer:
        def __init__(self, *topics: str, **kwargs: Any) -> None:
            made.append(kwargs)
            stop.set()

        async def start(self) -> None:
            raise OSError("no broker in a unit test")

        async def stop(self) -> None:
            return None

    monkeypatch.setattr(hub, "AIOKafkaConsumer", FakeConsumer)
    live = SimpleNamespace(listening=False, gates=(), notify=lambda gate: None)
    await hub.listen(
        cast(hub.LiveHub, live), settings=KafkaSettings(), bootstrap="unused:9092", stop=stop
    )
    assert [kwargs["isolation_level"] for kwargs in made] == ["read_committed"]


async def test_a_consumer_without_the_codec_library_refuses_to_start(monkeypatch: Any) -> None:
    """Without cramjam aiokafka cannot read an lz4, snappy or zstd batch: every fetch of its
    partition raised, and the runtime retried it as a lost broker for ever."""
    monkeypatch.setattr(aiokafka.codec, "cramjam", None)
    with pytest.raises(BrokerError, match="compressed with snappy, lz4, zstd"):
        # a hang guard only: before, run() retried the unreachable broker until stopped
        await asyncio.wait_for(runtime(RecordingProducer()).run(asyncio.Event()), timeout=30)
