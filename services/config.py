"""Settings, one class per concern, built at start-up (never at import).

Every value comes from the environment with the prefix `BORDERFLOW_`; the defaults are the
embedded ones (Tansu broker started as a child process, SQLite under ./var/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_KAFKA_", extra="ignore")

    # None: start the embedded Tansu broker. Set it to use an external Kafka cluster.
    bootstrap: str | None = None
    embedded_port: int = Field(default=0, ge=0, le=65535, description="0: a free port")
    client_id: str = "borderflow"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str | None = None
    sasl_password: str | None = None
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    fetch_max_wait_ms: int = Field(default=20, ge=0)
    max_batch: int = Field(default=500, ge=1)
    linger_ms: int = Field(default=2, ge=0)
    compression: Literal["none", "gzip", "lz4", "snappy", "zstd"] = "lz4"
    commit_timeout_s: float = Field(default=10.0, gt=0)
    request_timeout_s: float = Field(default=15.0, gt=0)
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


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_DATABASE_", extra="ignore")

    url: str = "sqlite+aiosqlite:///./var/borderflow.db"
    # PostgreSQL only: the schema (search_path) to use; None keeps the server's default.
    schema_name: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    echo: bool = False
    pool_size: int = Field(default=5, ge=1)

    @field_validator("url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "BORDERFLOW_DATABASE_URL must use an async driver: "
                "'sqlite+aiosqlite:///path.db' or 'postgresql+asyncpg://user@host/db'"
            )
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # per API key: `rate_burst` requests at once, then `rate_per_s` a second (429 beyond)
    rate_per_s: float = Field(default=50.0, gt=0)
    rate_burst: int = Field(default=100, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    gate_id: str = "huu-nghi"
    consumer_group: str = "borderflow-decider"
    var_dir: Path = Path("var")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    # BORDERFLOW_GATES_DIR: a folder of gate files (`*.toml`, services/gate_config.py) to run
    # with in place of the packaged ones (services/gates/); None: the packaged gates.
    gates_dir: Path | None = None
    # BORDERFLOW_METRICS_PORT: a worker serves Prometheus `/metrics` on this port (the API
    # serves them on its own port); None: no metrics server.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)

    # The door's sanity check of a camera's clock (issue 18): a read whose captured_at is
    # more than this ahead of its Kafka record's timestamp (the producer's or the broker's
    # clock when it was sent) goes to the dead-letter topic as clock-skew. Behind: None
    # accepts any age (backfills, recorded days); production may set e.g. 86400.
    reads_max_ahead_s: float = Field(default=300.0, ge=0)
    reads_max_behind_s: float | None = Field(default=None, ge=0)

    # BORDERFLOW_DRIVERS_SECRET: the key of the drivers' page tokens (issue 23), shared by the
    # API and the call-forward worker; None: one made once in var_dir/drivers-secret.
    drivers_secret: str | None = None

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)


def load_settings() -> Settings:
    """Build the settings from the environment; call it at start-up."""
    return Settings()
