"""The embedded broker's life cycle and the shared client helpers, against real brokers."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.runtime.settings import KafkaSettings
from streams.broker import EmbeddedBroker
from streams.clients import broker_metadata_ok, client_kwargs, ensure_topics, make_producer
from streams.errors import BrokerError
from streams.topics import TopicSpec, all_topics
from tests.kafka_plugin import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(20)]

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = KafkaSettings(session_timeout_ms=2000, heartbeat_interval_ms=500, fetch_max_wait_ms=20)


def _alive(pid: int) -> bool:
    """False once the process is gone or a zombie (PID 1 here may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _cluster_id(bootstrap: str) -> str:
    admin = AIOKafkaAdminClient(**client_kwargs(SETTINGS, bootstrap))
    try:
        await admin.start()
        return str((await admin.describe_cluster())["cluster_id"])
    finally:
        await admin.close()


async def _partitions(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(**client_kwargs(SETTINGS, bootstrap))
    try:
        await admin.start()
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics()}
    finally:
        await admin.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_start_stop_and_round_trip() -> None:
    async with EmbeddedBroker() as broker:
        pid = broker.pid
        assert pid is not None and _alive(pid)
        assert broker.bootstrap.startswith("127.0.0.1:")
        topic = unique_name("round-trip")
        await ensure_topics(SETTINGS, broker.bootstrap, [TopicSpec(topic, 3, "k", "test")])
        producer = make_producer(SETTINGS, broker.bootstrap, client_suffix="test")
        await producer.start()
        try:
            for i in range(3):
                await producer.send_and_wait(topic, f"v{i}".encode(), key=f"k{i}".encode())
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(**client_kwargs(SETTINGS, broker.bootstrap))
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, p) for p in range(3)])
            await consumer.seek_to_beginning()
            got: dict[bytes, bytes] = {}
            while len(got) < 3:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    got.update({r.key: r.value for r in records if r.key and r.value})
        finally:
            await consumer.stop()
        assert got == {b"k0": b"v0", b"k1": b"v1", b"k2": b"v2"}
    assert broker.pid is None
    assert not _alive(pid)


async def test_two_brokers_at_once_on_different_ports() -> None:
    async with EmbeddedBroker() as first, EmbeddedBroker() as second:
        assert first.bootstrap != second.bootstrap
        assert await _cluster_id(first.bootstrap) == first.cluster_id
        assert await _cluster_id(second.bootstrap) == second.cluster_id
        assert first.cluster_id != second.cluster_id


async def test_ensure_topics_is_idempotent_and_creates_the_partitions() -> None:
    async with EmbeddedBroker() as broker:
        await ensure_topics(SETTINGS, broker.bootstrap, all_topics())
        await ensure_topics(SETTINGS, broker.bootstrap, all_topics())
        found = await _partitions(broker.bootstrap)
    assert {s.name: found.get(s.name) for s in all_topics()} == {
        s.name: s.partitions for s in all_topics()
    }


async def test_ensure_topics_warns_when_a_topic_has_too_few_partitions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with EmbeddedBroker() as broker:
        admin = AIOKafkaAdminClient(**client_kwargs(SETTINGS, broker.bootstrap))
        await admin.start()
        try:
            await admin.create_topics([NewTopic("narrow", 1, 1)])
        finally:
            await admin.close()
        with caplog.at_level(logging.WARNING, logger="streams.clients"):
            await ensure_topics(SETTINGS, broker.bootstrap, [TopicSpec("narrow", 3, "k", "t")])
        assert (await _partitions(broker.bootstrap))["narrow"] == 1
    assert "narrow has 1 partitions, spec wants 3" in caplog.text


async def test_ensure_topics_fails_with_broker_error_when_nothing_answers() -> None:
    bootstrap = f"127.0.0.1:{_closed_port()}"
    with pytest.raises(BrokerError, match=bootstrap):
        await ensure_topics(SETTINGS, bootstrap, all_topics(), timeout_s=2)


async def test_a_port_held_by_another_broker_fails_instead_of_attaching() -> None:
    async with EmbeddedBroker() as stale:
        port = int(stale.bootstrap.rsplit(":", 1)[1])
        newcomer = EmbeddedBroker(port=port)
        with pytest.raises(BrokerError, match="exited") as raised:
            await newcomer.start(timeout_s=5)
        assert "Address in use" in str(raised.value)  # the log tail travels in the error
        assert newcomer.pid is None
        assert (await broker_metadata_ok(SETTINGS, stale.bootstrap))[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
@pytest.mark.parametrize("ending", ["sigkill", "normal-exit"])
async def test_no_orphan_when_the_parent_dies(ending: str) -> None:
    script = (
        "import sys, time\n"
        "from streams.broker import EmbeddedBroker\n"
        "broker = EmbeddedBroker()\n"
        "broker.start_sync()\n"
        "print(broker.pid, flush=True)\n"
        "sys.stdin.readline()\n"  # until told: it exited before the check once, under load
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        tansu = int(await asyncio.wait_for(child.stdout.readline(), 10))
        assert _alive(tansu)
        if ending == "sigkill":
            child.kill()
        else:  # a normal exit, now that the broker is seen alive
            child.stdin.write(b"\n")
            await child.stdin.drain()
        await asyncio.wait_for(child.wait(), 10)
        assert await _gone_within(tansu, 5), f"tansu pid {tansu} outlived its parent"
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def test_stop_is_idempotent() -> None:
    broker = EmbeddedBroker()
    await broker.stop()  # never started
    await broker.start()
    pid = broker.pid
    assert pid is not None
    await broker.stop()
    await broker.stop()
    broker.stop_sync()
    assert broker.pid is None
    assert not _alive(pid)


async def test_broker_metadata_ok(kafka_bootstrap: str, kafka_settings: KafkaSettings) -> None:
    ok, detail = await broker_metadata_ok(kafka_settings, kafka_bootstrap)
    assert ok, detail
    assert "broker(s)" in detail
    closed = f"127.0.0.1:{_closed_port()}"
    ok, detail = await broker_metadata_ok(kafka_settings, closed, timeout_s=1)
    assert not ok
    assert detail
