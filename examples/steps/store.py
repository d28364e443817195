"""The simulated target stores of the examples: SQLite files under `JOBMONITOR_DATA_DIR`.

SQLite keeps them process-safe: write transactions start with `BEGIN IMMEDIATE` (one writer
at a time, others wait up to BUSY_TIMEOUT), and WAL mode lets snapshots read meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

DATA_DIR_ENV = "JOBMONITOR_DATA_DIR"
DEFAULT_DATA_DIR = ".jobmonitor"
BUSY_TIMEOUT = 30.0


def store_path(name: str) -> Path:
    """Where store `name` lives: <JOBMONITOR_DATA_DIR>/examples/<name>.sqlite3."""
    base = Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    return base / "examples" / f"{name}.sqlite3"


def _connect(name: str, schema: str) -> sqlite3.Connection:
    path = store_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(schema)
    return conn


@contextlib.contextmanager
def writing(name: str, schema: str) -> Iterator[sqlite3.Connection]:
    """One write transaction on store `name`: committed on success, rolled back on error."""
    conn = _connect(name, schema)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


@contextlib.contextmanager
def reading(name: str, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection for reads of store `name` (each statement sees committed data)."""
    conn = _connect(name, schema)
    try:
        yield conn
    finally:
        conn.close()
