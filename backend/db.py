"""Database access with psycopg: the API's pool (`api_pool()`), the worker's long-lived
connection (`worker_connection()`), and plain connections (`connect()`).

Service functions take a `psycopg.Connection` and never commit: the caller owns the
transaction (`backend.http.deps.transaction()` in the API, `worker_connection()` in a step
task). The SQLModel classes describe the schema for Alembic; no process needs SQLAlchemy at
run time, so workers stay small (every fork copies the worker's memory map).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

import psycopg
from psycopg import pq
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from backend import outages, payload_limits
from backend.settings import get_settings, normalize_database_url

T = TypeVar("T")


def sqlalchemy_url(url: str) -> str:
    """Any accepted database URL as SQLAlchemy wants it: the psycopg (3) driver named."""
    libpq = normalize_database_url(url)
    if not libpq.startswith("postgresql://"):
        raise ValueError("SQLAlchemy needs a postgresql:// URL, not a key/value string")
    return "postgresql+psycopg://" + libpq.removeprefix("postgresql://")


def pooler_kwargs() -> dict[str, Any]:
    """Connection arguments for the configured pooler: behind PgBouncer's transaction pooling
    a server-side prepared statement would meet another server connection, so none is made
    (psycopg otherwise prepares a statement from its fifth execution)."""
    return {"prepare_threshold": None} if get_settings().behind_pgbouncer else {}


def connect(url: str | None = None, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A new plain psycopg connection returning dict rows."""
    target = normalize_database_url(url or get_settings().require_database_url())
    return psycopg.connect(
        target, autocommit=autocommit, row_factory=dict_row, connect_timeout=5, **pooler_kwargs()
    )


_worker_conn: psycopg.Connection[Any] | None = None
_worker_pid: int | None = None


def worker_connection() -> psycopg.Connection[Any]:
    """The worker process's long-lived connection (one per process, reopened after a fork
    or when closed or broken): no new connection per step in SimpleWorker."""
    global _worker_conn, _worker_pid
    if _worker_conn is None or _worker_pid != os.getpid() or _worker_conn.closed:
        _worker_conn = connect(
            autocommit=True
        )  # transactions are explicit: pipelined_transaction()
        _worker_pid = os.getpid()
    return _worker_conn


def close_worker_connection() -> None:
    global _worker_conn, _worker_pid
    if _worker_conn is not None and _worker_pid == os.getpid():
        _worker_conn.close()
    _worker_conn, _worker_pid = None, None


@contextmanager
def pipelined_transaction(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """A transaction whose BEGIN and COMMIT travel with its statements, on an autocommit
    connection: the caller's reads are the only round trips, plus one for the COMMIT.

    psycopg's own `transaction()` syncs the pipeline when it begins, when it ends and around
    nested blocks (six round trips for a claim that needs two). On an exception the
    transaction is rolled back; after a database error the connection is closed instead, so
    that no statement prepared in the failed pipeline is taken for prepared later.
    """
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            yield
            conn.execute("COMMIT")
    except BaseException as exc:
        if (
            isinstance(exc, psycopg.Error)
            or conn.info.transaction_status == pq.TransactionStatus.INERROR
        ):
            conn.close()
        elif not conn.closed and conn.info.transaction_status != pq.TransactionStatus.IDLE:
            conn.rollback()
        raise


CONFLICT_TRIES = 5  # a deadlock or serialization failure: the transaction is tried this often
_log = logging.getLogger(__name__)


def retry_conflicts(fn: Callable[[], T], tries: int = CONFLICT_TRIES) -> T:
    """`fn()` (one whole transaction), tried again after a short jittered pause when
    PostgreSQL chose it as a deadlock's victim or refused it for serialization; at most
    `tries` times, then the error is raised. See the lock order in backend.jobs.states."""
    for attempt in range(1, tries + 1):
        try:
            return fn()
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
            if attempt == tries:
                raise
            _log.info(
                "transaction conflict (%s); trying again (%d/%d)", exc.sqlstate, attempt, tries
            )
            time.sleep(random.uniform(0.01, 0.05) * 2**attempt)
    raise AssertionError("unreachable")


def batch(conn: psycopg.Connection[Any]) -> AbstractContextManager[Any]:
    """A pipeline for a run of statements, unless the caller already has one open (psycopg
    syncs a nested pipeline when it ends: a round trip for nothing)."""
    if conn.pgconn.pipeline_status != pq.PipelineStatus.OFF:
        return nullcontext()
    return conn.pipeline()


def ping(conn: psycopg.Connection[Any]) -> None:
    """One round trip to the server (readiness checks)."""
    conn.execute("SELECT 1")


# --- The API's connection pool ------------------------------------------------------------

API_POOL_TIMEOUT = 5.0  # seconds a request waits for a connection before it answers 503
API_STATEMENT_TIMEOUT_MS = 10_000  # no request hangs on a slow or locked query past this
# The API's session settings: custom plans (status-filtered pages get a generic plan 10-50x
# slower otherwise), no JIT, and the statement timeout. Startup options on a direct
# connection; behind PgBouncer (which refuses startup options) SET LOCAL in each transaction.
API_SESSION = {
    "plan_cache_mode": "force_custom_plan",
    "jit": "off",
    "statement_timeout": str(API_STATEMENT_TIMEOUT_MS),
}
_SET_LOCAL = "SELECT " + ", ".join(f"set_config('{k}', %s, true)" for k in API_SESSION)
# A reconnect attempt gives up after this long, and the next request starts a fresh one at
# once: psycopg_pool's own backoff (1, 2, 4, 8, 16 s...) kept the API answering 503 for up
# to 22 s after the database came back; this keeps it to about a second.
API_RECONNECT_SECONDS = 2.0
_api_pool: ConnectionPool[psycopg.Connection[Any]] | None = None
_api_pool_key: tuple[int, str] | None = None
_api_pool_lock = threading.Lock()


def api_pool() -> ConnectionPool[psycopg.Connection[Any]]:
    """The API's pool: created lazily (mounted in Reflex, no startup hook runs), recreated after
    a fork or when the database URL or pooler changed. Checked connections, dict rows, the
    API's session settings (`API_SESSION`)."""
    global _api_pool, _api_pool_key
    settings = get_settings()
    url = settings.require_database_url()
    key = (os.getpid(), f"{settings.database_pooler}:{url}")
    if _api_pool is not None and _api_pool_key == key:
        return _api_pool
    with _api_pool_lock:
        if _api_pool is not None and _api_pool_key == key:
            return _api_pool
        # its warning per failed reconnect attempt is replaced by backend.outages' two lines
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        old, old_key = _api_pool, _api_pool_key
        _api_pool = ConnectionPool(
            url,
            min_size=1,
            max_size=16,
            timeout=API_POOL_TIMEOUT,
            open=True,
            check=ConnectionPool.check_connection,  # checked out only after a ping
            reconnect_timeout=API_RECONNECT_SECONDS,
            configure=_configure_api_connection,
            kwargs={
                "row_factory": dict_row,
                "connect_timeout": 5,
                "application_name": "jobmonitor-api",
                **_api_session_kwargs(),
            },
            name="jobmonitor-api",
        )
        _api_pool_key = key
        if old is not None and old_key is not None and old_key[0] == os.getpid():
            old.close(timeout=1)
    return _api_pool


def _configure_api_connection(conn: psycopg.Connection[Any]) -> None:
    """JSON read by the API is cut at a depth every response can carry (no stored document
    can make a read fail)."""
    set_json_loads(payload_limits.loads, conn)
    outages.DATABASE.recovered()


def close_api_pool() -> None:
    global _api_pool, _api_pool_key
    if _api_pool is not None and _api_pool_key is not None and _api_pool_key[0] == os.getpid():
        _api_pool.close(timeout=1)
    _api_pool, _api_pool_key = None, None


def _api_session_kwargs() -> dict[str, Any]:
    if get_settings().behind_pgbouncer:
        return pooler_kwargs()
    return {"options": " ".join(f"-c {k}={v}" for k, v in API_SESSION.items())}


def begin_api_transaction(conn: psycopg.Connection[Any]) -> None:
    """First statement of an API transaction: behind PgBouncer, the session settings for this
    transaction only (the next one may run on another server connection); else nothing."""
    if get_settings().behind_pgbouncer:
        conn.execute(_SET_LOCAL, list(API_SESSION.values()))
