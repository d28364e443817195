"""The one settings class. Every knob is an environment variable `JOBMONITOR_<NAME>`
(or a line in `.env`); read once per process through `get_settings()`."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backend.redis_url import sentinel_target

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")


def normalize_database_url(url: str) -> str:
    """The one reading of a database URL, for every entry point: libpq's form.

    People write libpq URLs (`postgresql://`, `postgres://`) and SQLAlchemy ones
    (`postgresql+psycopg://`, `postgresql+psycopg2://`, ...); both name the same server. A
    libpq key/value string (`host=... dbname=...`) is kept as it is. Any other scheme is an error.
    """
    url = url.strip()
    match = _SCHEME.match(url)
    if match is None:
        return url
    scheme = match["scheme"].lower()
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        return "postgresql://" + url[match.end() :]
    raise ValueError(
        f"not a PostgreSQL URL (scheme {match['scheme']!r}): use postgresql://user@host:port/db "
        "or postgresql+psycopg://user@host:port/db"
    )


class SettingMissing(RuntimeError):
    """A setting a command needs is not set (e.g. JOBMONITOR_DATABASE_URL for a worker)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBMONITOR_", env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user@host:port/db). Unset: `up` starts a private one. "
        "A secret (it may hold a password): shown masked, read with `require_database_url()`.",
    )
    database_pooler: Literal["none", "pgbouncer"] = Field(
        default="none",
        description="A connection pooler between every process and PostgreSQL: `pgbouncer` "
        "(transaction pooling) sends no startup options (the API's become SET LOCAL in each "
        "transaction) and no server-side prepared statements.",
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL. Unset: `up` starts a private redis-server."
    )
    data_dir: Path = Field(default=Path(".jobmonitor"), description="Private servers' data.")
    workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="rq workers started by `up`; `doctor` compares the live workers with it.",
    )
    worker_start_id: str | None = Field(
        default=None,
        max_length=100,
        description="Set by `up`: the id under which it announced the workers it starts, so "
        "`doctor` says 'starting' (not 'missing') until they have registered.",
    )
    queue: str = Field(default="jobmonitor", description="rq queue name for step attempts.")
    lease_ttl: float = Field(default=30.0, gt=0, description="Seconds an attempt's lease lasts.")
    heartbeat_interval: float | None = Field(
        default=None,
        gt=0,
        description="Seconds between heartbeats (default: lease_ttl / 3, at most 1).",
    )
    timeout_grace: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a step may run past its timeout_seconds when it does not stop on "
        "the interrupt; then its process is killed and the attempt recorded as timed out.",
    )
    reaper_interval: float = Field(default=2.0, gt=0, description="Seconds between reaper passes.")
    nan_as_null: bool = Field(
        default=False,
        description="Store NaN and Infinity in a step's output as null (off: the attempt fails "
        "with OutputNotStorable, naming where).",
    )
    max_output_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="Largest step output stored, as JSON bytes."
    )
    scheduler_interval: float = Field(
        default=1.0, gt=0, description="Seconds between the scheduler's passes."
    )
    schedule_grace_seconds: float = Field(
        default=60.0,
        ge=0,
        description="catchup=none: a due time later than this (plus jitter) is not fired.",
    )
    chain_max_depth: int = Field(
        default=10, ge=1, le=1000, description="Triggers in one chain at most (loop protection)."
    )
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Hosts outgoing webhooks may reach although they resolve to private, "
        "loopback or link-local addresses (instance admin).",
    )
    webhook_timeout: float = Field(default=5.0, gt=0, le=60, description="Seconds per attempt.")
    webhook_max_attempts: int = Field(default=5, ge=1, le=20, description="Attempts per delivery.")
    webhook_backoff_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay; doubled after each failure."
    )
    step_modules: Annotated[list[str], NoDecode] = Field(
        default=["examples.steps"], description="Modules imported to register step functions."
    )
    events_channel_prefix: str = Field(default="jobmonitor:events", description="Pub/sub prefix.")
    port: int = Field(default=3000, ge=1, le=65535, description="Web app port for `up`.")
    url: str | None = Field(default=None, description="API base URL used by clients.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines on stderr: text, or one JSON object per line with request_id, "
        "job_id, step and attempt as fields.",
    )
    tracing: Literal["off", "otlp", "console"] = Field(
        default="off",
        description="OpenTelemetry spans per API request and step attempt (the `tracing` "
        "extra): otlp (OTEL_EXPORTER_OTLP_* configure it) or console.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="Where every process of this host writes its Prometheus metrics "
        "(prometheus_client's multiprocess mode; PROMETHEUS_MULTIPROC_DIR wins). Default: "
        "<data_dir>/metrics.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="The instance's scrape token for /api/v1/metrics: every workspace's series "
        "(an API token still sees its own workspace's).",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Extra browser origins allowed to open the API's WebSockets (same-origin always is).",
    )

    @field_validator("step_modules", "allowed_origins", "webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_modules(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in value.strip("[]").replace('"', "").split(",") if m.strip()]
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_sentinel_url(cls, value: str | None) -> str | None:
        if value:
            sentinel_target(value)  # a malformed Sentinel URL is refused here, with the reason
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalize_database_url(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return normalize_database_url(value) if isinstance(value, str) and value else value

    @property
    def heartbeat_every(self) -> float:
        return self.heartbeat_interval or min(max(self.lease_ttl / 3, 0.05), 1.0)

    def require_database_url(self) -> str:
        url = self.database_url.get_secret_value() if self.database_url else ""
        if not url:
            raise SettingMissing(
                "JOBMONITOR_DATABASE_URL is not set (run `jobmonitor up`, or export it)"
            )
        return url

    @property
    def behind_pgbouncer(self) -> bool:
        return self.database_pooler == "pgbouncer"

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise SettingMissing(
                "JOBMONITOR_REDIS_URL is not set (run `jobmonitor up`, or export it)"
            )
        return self.redis_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and `up` change the environment)."""
    get_settings.cache_clear()
