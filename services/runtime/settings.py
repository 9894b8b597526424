"""Settings, one class per concern, built at start-up (never at import).

Every value comes from the environment with the prefix `BORDERFLOW_`; the defaults are the
embedded ones (Tansu broker started as a child process, SQLite under ./var/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.settings import KafkaSettings

# KafkaSettings lives with the stream runtime (streams/settings.py) and is re-exported here
__all__ = [
    "ApiSettings",
    "DatabaseSettings",
    "DriversSettings",
    "KafkaSettings",
    "Settings",
    "load_settings",
]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
                "must use an async driver: "
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


class DriversSettings(BaseSettings):
    """The drivers' short codes (services/drivers/guard.py): codes not found, limited per
    client address (`code_failures_burst` at once, then `code_failures_per_min` a minute)
    and from all addresses together (`code_failures_total_*`); from an address so refused,
    a code with the truck's plate, its wrong pairs limited the same way (`plate_failures_*`)."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_DRIVERS_", extra="ignore")

    code_failures_burst: int = Field(default=10, ge=1)
    code_failures_per_min: float = Field(default=1.0, gt=0)
    code_failures_total_burst: int = Field(default=100, ge=1)
    code_failures_total_per_min: float = Field(default=30.0, gt=0)
    plate_failures_burst: int = Field(default=20, ge=1)
    plate_failures_per_min: float = Field(default=10.0, gt=0)
    plate_failures_total_burst: int = Field(default=600, ge=1)
    plate_failures_total_per_min: float = Field(default=300.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    gate_id: str = "huu-nghi"
    consumer_group: str = Field(default="borderflow-decider", min_length=1)
    var_dir: Path = Path("var")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    # BORDERFLOW_GATES_DIR: a folder of gate files (`*.toml`, services/gates/loader.py) to run
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
    # BORDERFLOW_PUBLIC_URL: where drivers' phones reach this system (`https://border.example`,
    # a path allowed): the base of the absolute links it gives out (a booking's
    # `driver_page`); None: the base URL of the request that asked for the link.
    public_url: str | None = None

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    drivers: DriversSettings = Field(default_factory=DriversSettings)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        """A level logging knows (`LOUD` ended every command in a traceback)."""
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"one of {', '.join(LOG_LEVELS)}")
        return value.strip().upper()

    @field_validator("drivers_secret")
    @classmethod
    def _drivers_secret(cls, value: str | None) -> str | None:
        """Set means given: an empty one was taken for unset, and each process made its own
        secret in its var dir, so the links the call-forward worker made did not open on
        an API on another machine."""
        if value is not None and not value.strip():
            raise ValueError(
                "empty; give the same secret to the API and the call-forward worker, or "
                "unset it to have one made in $BORDERFLOW_VAR_DIR/drivers-secret"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        """http(s), a host, no query or fragment; kept without its trailing slash."""
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http(s) URL with a host, e.g. https://border.example")
        if parts.query or parts.fragment:
            raise ValueError("no query or fragment: the links' paths are added to it")
        return value.strip().rstrip("/")


# every settings class, by the name a refusal of it is given (services.runtime.setting_errors)
SETTINGS_CLASSES: list[type[BaseSettings]] = [
    Settings,
    KafkaSettings,
    DatabaseSettings,
    ApiSettings,
    DriversSettings,
]


def load_settings() -> Settings:
    """Build the settings from the environment; call it at start-up."""
    return Settings()
