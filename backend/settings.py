"""The one settings class. Every knob is an environment variable `JOBMONITOR_<NAME>`
(or a line in `.env`); read once per process through `get_settings()`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBMONITOR_", env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user@host:port/db). Unset: `up` starts a private one. "
        "A secret (it may hold a password): shown masked, read with `require_database_url()`.",
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL. Unset: `up` starts a private redis-server."
    )
    data_dir: Path = Field(default=Path(".jobmonitor"), description="Private servers' data.")
    workers: int = Field(default=2, ge=1, le=64, description="rq workers started by `up`.")
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
    step_modules: Annotated[list[str], NoDecode] = Field(
        default=["examples.steps"], description="Modules imported to register step functions."
    )
    events_channel_prefix: str = Field(default="jobmonitor:events", description="Pub/sub prefix.")
    port: int = Field(default=3000, ge=1, le=65535, description="Web app port for `up`.")
    url: str | None = Field(default=None, description="API base URL used by clients.")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Extra browser origins allowed to open the API's WebSockets (same-origin always is).",
    )

    @field_validator("step_modules", "allowed_origins", mode="before")
    @classmethod
    def _split_modules(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in value.strip("[]").replace('"', "").split(",") if m.strip()]
        return value

    @property
    def heartbeat_every(self) -> float:
        return self.heartbeat_interval or min(max(self.lease_ttl / 3, 0.05), 1.0)

    def require_database_url(self) -> str:
        url = self.database_url.get_secret_value() if self.database_url else ""
        if not url:
            raise RuntimeError(
                "JOBMONITOR_DATABASE_URL is not set (run `jobmonitor up`, or export it)"
            )
        return url

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError(
                "JOBMONITOR_REDIS_URL is not set (run `jobmonitor up`, or export it)"
            )
        return self.redis_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and `up` change the environment)."""
    get_settings.cache_clear()
