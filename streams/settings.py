"""The Kafka settings every client of the broker reads (`BORDERFLOW_KAFKA_*`), built at
start-up. Here, below the services, so that the stream runtime needs nothing above it;
`services.runtime.settings.Settings` holds one as `kafka`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_KAFKA_", extra="ignore")

    # None: start the embedded Tansu broker. Set it to use an external Kafka cluster.
    bootstrap: str | None = None
    embedded_port: int = Field(default=0, ge=0, le=65535, description="0: a free port")
    client_id: str = Field(default="borderflow", min_length=1)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    # the mechanisms aiokafka speaks (any other was taken, and failed at the first connection)
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"] = (
        "PLAIN"
    )
    sasl_username: str | None = None
    sasl_password: str | None = None
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    fetch_max_wait_ms: int = Field(default=20, ge=0)
    max_batch: int = Field(default=500, ge=1)
    linger_ms: int = Field(default=2, ge=0)
    compression: Literal["none", "gzip", "lz4", "snappy", "zstd"] = "lz4"
    commit_timeout_s: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    request_timeout_s: float = Field(default=15.0, gt=0, allow_inf_nan=False)
    # The largest event value a consumer handles (bytes). A larger one is dead-lettered by
    # reference (topic, partition, offset, size, reason; `streams.runtime`) and skipped, so
    # no single record can hold up a partition. Topics are created with max.message.bytes
    # of this plus FRAME_HEADROOM, producers may send that much, and consumers fetch twice
    # that per partition (`streams.clients.size_limits`): the three agree.
    max_message_bytes: int = Field(default=1_000_000, ge=4_096, le=64_000_000)
    # Off by default: the embedded broker does not support InitProducerId. Consumers
    # deduplicate by event id, so correctness never depends on it.
    idempotent_producer: bool = False
    # Topics a service finds missing are created with this replication factor (production:
    # 3, as deploy/'s topic job does; the embedded broker has one node).
    replication_factor: int = Field(default=1, ge=1)

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap(cls, value: str | None) -> str | None:
        """Set means given: an empty one was tried as a host named '' on port 9092."""
        if value is not None and not value.strip():
            raise ValueError(
                "empty; give host:port[,host:port...], or unset it for `borderflow up` to "
                "start the embedded broker"
            )
        return value
