"""Pytest plugin: one Kafka broker per test session, settings tuned for fast tests, and
unique topic/group names so that tests sharing the broker never see each other's data.

`BORDERFLOW_TEST_KAFKA_BOOTSTRAP=host:port` runs the tests against an external broker
(Apache Kafka); otherwise the embedded Tansu broker is started for the session.

The broker is started synchronously (`start_sync`, from the main thread), so the fixture
works whatever event loop each test uses.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest

from services.runtime.settings import KafkaSettings
from streams.broker import EmbeddedBroker

EXTERNAL_BOOTSTRAP_ENV = "BORDERFLOW_TEST_KAFKA_BOOTSTRAP"


def unique_name(base: str) -> str:
    """`base` plus a random suffix: a legal Kafka topic or group name (at most 200 chars)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.")[:180] or "t"
    return f"{cleaned}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get(EXTERNAL_BOOTSTRAP_ENV, "").strip()
    if external:
        yield external
        return
    broker = EmbeddedBroker(log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    broker.start_sync()
    try:
        yield broker.bootstrap
    finally:
        broker.stop_sync()


@pytest.fixture
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap=kafka_bootstrap,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=20,
    )


@pytest.fixture
def unique_topic_prefix(request: pytest.FixtureRequest) -> str:
    """A per-test prefix, e.g. `test_round_trip-3f9a0c1b2d.`: append topic/group names."""
    return unique_name(request.node.name) + "."
