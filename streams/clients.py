"""What every Kafka client of borderflow shares: connection settings, the producer, the
topics it needs and a health probe. Works unchanged against Tansu and Apache Kafka."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka import codec as aiokafka_codec
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from streams.errors import BrokerError
from streams.settings import KafkaSettings
from streams.topics import TopicSpec

log = logging.getLogger(__name__)

MAX_BATCH_BYTES = 256 * 1024


def client_kwargs(settings: KafkaSettings, bootstrap: str) -> dict[str, Any]:
    """Keyword arguments common to aiokafka producers, consumers and admin clients."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "client_id": settings.client_id,
        "security_protocol": settings.security_protocol,
        "request_timeout_ms": int(settings.request_timeout_s * 1000),
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        kwargs["ssl_context"] = create_ssl_context()  # the system's trusted CAs
    if settings.security_protocol.startswith("SASL_"):
        kwargs["sasl_mechanism"] = settings.sasl_mechanism
        if settings.sasl_username is not None:
            kwargs["sasl_plain_username"] = settings.sasl_username
            kwargs["sasl_plain_password"] = settings.sasl_password
    return kwargs


def consumer_kwargs(settings: KafkaSettings, bootstrap: str) -> dict[str, Any]:
    """`client_kwargs` for a consumer: it reads committed records only. A transactional
    producer (Kafka Connect, a Java gateway with exactly-once on) leaves the records of an
    aborted transaction in the log; aiokafka's default, read_uncommitted, hands them over
    as if sent, and a worker acted on them (until 2026-12-06). Without transactions
    read_committed reads the same records."""
    return client_kwargs(settings, bootstrap) | {"isolation_level": "read_committed"}


# The codecs a standard producer may compress its batches with (Java's, librdkafka's,
# Kafka Connect's compression.type). aiokafka reads gzip itself, the others through cramjam.
CODECS = {
    "gzip": aiokafka_codec.has_gzip,
    "snappy": aiokafka_codec.has_snappy,
    "lz4": aiokafka_codec.has_lz4,
    "zstd": aiokafka_codec.has_zstd,
}


def require_codecs() -> None:
    """BrokerError unless every codec of `CODECS` can be read. A batch in a codec whose
    library is missing cannot be read at all: aiokafka raises on every fetch of its
    partition, which the consumer took for a lost broker and retried for ever, the records
    behind it never read and never dead-lettered (found 2026-12-06)."""
    missing = [name for name, available in CODECS.items() if not available()]
    if missing:
        raise BrokerError(
            f"cannot read record batches compressed with {', '.join(missing)}: the codec "
            "library (cramjam, a dependency of borderflow) is not installed, and one such "
            "batch from a producer would stop its partition; install borderflow with its "
            "dependencies"
        )


FRAME_HEADROOM = 65_536  # key, headers and record-batch framing around the largest value


@dataclass(frozen=True, slots=True)
class SizeLimits:
    """One size rule for the topics, the producers and the consumers (issue 18)."""

    value: int  # the largest value handled; larger ones are dead-lettered by reference
    topic: int  # the topics' max.message.bytes
    request: int  # the producers' max_request_size
    fetch: int  # the consumers' max_partition_fetch_bytes

    def topic_configs(self) -> dict[str, str]:
        return {"max.message.bytes": str(self.topic)}


def size_limits(settings: KafkaSettings) -> SizeLimits:
    topic = settings.max_message_bytes + FRAME_HEADROOM
    return SizeLimits(settings.max_message_bytes, topic, topic, 2 * topic)


def make_producer(
    settings: KafkaSettings, bootstrap: str, *, client_suffix: str = ""
) -> AIOKafkaProducer:
    """A producer (not started) with acks=all and the configured batching."""
    kwargs = client_kwargs(settings, bootstrap)
    if client_suffix:
        kwargs["client_id"] = f"{settings.client_id}-{client_suffix}"
    return AIOKafkaProducer(
        **kwargs,
        acks="all",
        compression_type=None if settings.compression == "none" else settings.compression,
        linger_ms=settings.linger_ms,
        enable_idempotence=settings.idempotent_producer,
        max_batch_size=MAX_BATCH_BYTES,
        max_request_size=size_limits(settings).request,
    )


async def ensure_topics(
    settings: KafkaSettings,
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    replication_factor: int | None = None,
    timeout_s: float = 15,
) -> None:
    """Create the topics that are missing, then check that every one is listed.
    `replication_factor` None: the settings' (BORDERFLOW_KAFKA_REPLICATION_FACTOR)."""
    if replication_factor is None:
        replication_factor = settings.replication_factor
    wanted = {spec.name: spec for spec in specs}
    if not wanted:
        return
    admin = AIOKafkaAdminClient(**client_kwargs(settings, bootstrap))
    missing = sorted(wanted)
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await _create(
                admin,
                bootstrap,
                wanted,
                replication_factor=replication_factor,
                timeout_s=timeout_s,
                configs=size_limits(settings).topic_configs(),
            )
            while True:
                # Every topic, never named ones: a Metadata request naming a missing topic
                # makes Tansu auto-create it with 4 partitions.
                listed = {t["topic"]: t for t in await admin.describe_topics()}
                missing = sorted(name for name in wanted if _missing(listed.get(name)))
                if not missing:
                    break
                await asyncio.sleep(0.1)  # Apache Kafka: metadata lags a fresh topic
    except TimeoutError:
        raise BrokerError(
            f"topics not ready on {bootstrap} within {timeout_s} s; missing: {missing}"
        ) from None
    except KafkaError as exc:
        raise BrokerError(f"could not create topics on {bootstrap}: {exc!r}") from exc
    finally:
        await admin.close()
    for name, spec in wanted.items():
        found = len(listed[name]["partitions"])
        if found < spec.partitions:
            log.warning(
                "topic %s has %d partitions, spec wants %d; add them by hand on Apache "
                "Kafka (Tansu cannot add partitions)",
                name,
                found,
                spec.partitions,
            )


async def _create(
    admin: AIOKafkaAdminClient,
    bootstrap: str,
    wanted: dict[str, TopicSpec],
    *,
    replication_factor: int,
    timeout_s: float,
    configs: dict[str, str],
) -> None:
    new = [
        NewTopic(s.name, s.partitions, replication_factor, topic_configs=configs)
        for s in wanted.values()
    ]
    response = await admin.create_topics(new, timeout_ms=int(timeout_s * 1000))
    failures = [
        f"{e['topic']}: error {e['error_code']} {e['error_message'] or ''}".strip()
        for e in response.to_object()["topic_errors"]
        if e["error_code"] not in (0, TopicAlreadyExistsError.errno)
    ]
    if failures:
        raise BrokerError(f"could not create topics on {bootstrap}: {failures}")


def _missing(topic: dict[str, Any] | None) -> bool:
    """Absent from the metadata, or listed without usable partitions yet."""
    return topic is None or topic["error_code"] != 0 or not topic["partitions"]


async def broker_metadata_ok(
    settings: KafkaSettings, bootstrap: str, *, timeout_s: float = 3
) -> tuple[bool, str]:
    """A Metadata round trip: (True, what answered) or (False, why not). Never raises."""
    kwargs = client_kwargs(settings, bootstrap)
    kwargs["request_timeout_ms"] = int(timeout_s * 1000)
    try:
        admin = AIOKafkaAdminClient(**kwargs)
    except (ValueError, KafkaError) as exc:  # settings aiokafka refuses
        return False, f"bad client settings: {exc}"
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            cluster = await admin.describe_cluster()
    except TimeoutError:
        return False, f"no Metadata answer from {bootstrap} within {timeout_s} s"
    except Exception as exc:  # a probe reports every failure, it never raises
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        await admin.close()
    brokers = len(cluster.get("brokers", []))
    return True, f"cluster {cluster.get('cluster_id')!r}, {brokers} broker(s)"
