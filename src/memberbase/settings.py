"""One validated settings object; every value has a default that runs as-is."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./memberbase.db"
NATS_SCHEMES = ("nats://", "tls://", "ws://", "wss://")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_password_checks() -> int:
    """Half the cores, 1 to 4: the other half keeps answering the callers already verified."""
    return min(4, max(1, _cores() // 2))


class Settings(BaseSettings):
    """Settings come from MEMBERBASE_* environment variables or the CLI's options."""

    model_config = SettingsConfigDict(env_prefix="MEMBERBASE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    config: Path | None = Field(None, description="org YAML file; the built-in demo org when unset")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    batch_limit: int = Field(100, ge=1, le=10_000, description="customers per v1.1 add request")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="largest request body accepted")
    max_header_bytes: int = Field(
        16_384, ge=1024, le=1_048_576, description="largest request head (request line and headers), else 431"
    )
    max_headers: int = Field(100, ge=10, le=1000, description="most headers in a request, else 431")
    db_pool_size: int = Field(
        20, ge=1, le=200, description="PostgreSQL connections kept per process (half as many again in bursts)"
    )
    db_pool_idle_seconds: int = Field(
        60,
        ge=0,
        le=86_400,
        description="a pooled PostgreSQL connection unused this long is closed (0: never)",
    )
    secret_key: SecretStr | None = Field(
        None, description="signs OAuth tokens; required on PostgreSQL (generated beside an SQLite database)"
    )
    secret_key_file: Path | None = Field(None, description="a file holding the secret key instead")
    previous_secret_key: SecretStr | None = Field(
        None, description="the key before the current one, still accepted for its tokens (rotation)"
    )
    previous_secret_key_file: Path | None = Field(None, description="a file holding the previous key instead")
    worker_healthcheck_seconds: int = Field(
        30,
        ge=1,
        le=600,
        description="serve --workers: seconds a worker may take to answer its supervisor, else replaced",
    )
    redis_url: str | None = Field(None, description="redis://host:6379/0 to share rate-limit counters")
    access_log: bool = Field(False, description="log one JSON line per request")
    rate_limit_prefix: str = Field("memberbase", min_length=1, description="names the shared counters")
    failed_logins_per_5_minutes: int = Field(10, ge=1, le=10_000, description="then a login is refused 429")
    password_checks_at_once: int = Field(
        default_factory=default_password_checks,
        ge=1,
        le=64,
        description="slow password checks running at once per process (64 MiB each)",
    )
    password_checks_queued: int = Field(
        32, ge=0, le=10_000, description="more waiting their turn; beyond them a login is answered 429"
    )
    idempotency_hours: int = Field(
        24, ge=1, le=24 * 30, description="how long the answer to a write with an Idempotency-Key is kept"
    )
    nats_url: str | None = Field(
        None, description="nats://127.0.0.1:4222 to publish the event outbox to NATS JetStream"
    )
    events_stream: str = Field("MEMBERBASE", pattern=r"^[A-Za-z0-9_-]+$", description="JetStream stream")
    events_subject_prefix: str = Field(
        "memberbase", pattern=r"^[A-Za-z0-9_-]+$", description="subjects are <prefix>.<org>.<event type>"
    )

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, value: str | None) -> str | None:
        # The NATS client reads `http://host:8222` (the monitoring port) as a host named "http".
        for server in (value or "").split(","):
            if server.strip() and not server.strip().startswith(NATS_SCHEMES):
                raise ValueError(f"{server.strip()!r} is not a NATS URL: use nats://host:4222")
        return value
