"""Redis clients from `JOBMONITOR_REDIS_URL`, for every process (workers, reaper, API, the
event stream, the server checks): a plain URL (`redis://`, `rediss://`, `unix://`) as redis-py
reads it, or Redis Sentinel:

    redis+sentinel://[[user]:password@]host:port[,host:port...]/master_name[/db]

The client then asks the sentinels for the current master of `master_name` (again after a
failover) and talks to it; the password is the master's. rq takes the client as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel, SentinelManagedConnection

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_TIMEOUT = 2.0  # seconds for a sentinel to answer "which is the master?"


class _MasterConnection(SentinelManagedConnection):
    """redis-py's Sentinel connection (7.4) keeps itself open when a read is interrupted
    (`disconnect_on_error` defaults to False there, True for a plain connection). rq's worker
    is interrupted in its blocking BLPOP by SIGTERM; the connection went back to the pool with
    that reply still due, and the worker's next command (its farewell) waited forever. This
    connection closes on an interrupted read, as a plain one does."""

    def read_response(
        self,
        disable_decoding: bool = False,
        *,
        disconnect_on_error: bool | None = True,
        push_request: bool | None = False,
    ) -> Any:
        return super().read_response(
            disable_decoding=disable_decoding,
            disconnect_on_error=disconnect_on_error,
            push_request=push_request,
        )


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: list[tuple[str, int]]
    master: str
    db: int
    username: str | None
    password: str | None

    def describe(self) -> str:
        hosts = ",".join(f"{h}:{p}" for h, p in self.sentinels)
        return f"Redis master {self.master!r} (Sentinel {hosts})"


def sentinel_target(url: str) -> SentinelTarget | None:
    """The Sentinel URL's parts; None for a plain Redis URL. ValueError when malformed."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        return None
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    path = [p for p in parts.path.split("/") if p]
    if not hosts or not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError(
            f"not a Sentinel URL: expected {SENTINEL_SCHEME}://host:port[,host:port]/master_name[/db]"
        )
    return SentinelTarget(
        sentinels=[_host_port(h) for h in hosts.split(",")],
        master=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(username) or None,
        password=unquote(password) or None,
    )


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"a sentinel must be host:port, not {text!r}")
    return host.strip("[]"), int(port)


def describe(url: str) -> str:
    """Where a Redis URL points, for messages (never the password)."""
    target = sentinel_target(url)
    if target is not None:
        return target.describe()
    parts = urlsplit(url)
    return f"Redis at {parts.hostname}:{parts.port or 6379}"


def redis_from_url(url: str, **kwargs: Any) -> Redis:
    """A client of the Redis the URL names; `kwargs` are the connection's (timeouts...)."""
    target = sentinel_target(url)
    if target is None:
        return Redis.from_url(url, **kwargs)
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=_sentinel_kwargs(), **kwargs)
    return _master(sentinel, target, connection_class=_MasterConnection)


def async_redis_from_url(url: str, **kwargs: Any) -> AsyncRedis:
    """The asyncio twin of `redis_from_url` (the API's event stream)."""
    target = sentinel_target(url)
    if target is None:
        return AsyncRedis.from_url(url, **kwargs)
    sentinel = AsyncSentinel(target.sentinels, sentinel_kwargs=_sentinel_kwargs(), **kwargs)
    return _master(sentinel, target)


def _master(sentinel: Sentinel | AsyncSentinel, target: SentinelTarget, **kwargs: Any) -> Any:
    """The client of the master the sentinels name (asked again after a failover)."""
    return sentinel.master_for(
        target.master, db=target.db, username=target.username, password=target.password, **kwargs
    )


def _sentinel_kwargs() -> dict[str, float]:
    return {"socket_connect_timeout": SENTINEL_TIMEOUT, "socket_timeout": SENTINEL_TIMEOUT}
