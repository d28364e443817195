"""Keeping one bad item from stopping the scheduler: a bug met while handling one schedule,
event or rule is logged with its traceback and that item is skipped (its transaction rolled
back); a lost connection still ends the round, so the process reconnects."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

log = logging.getLogger("jobmonitor.scheduler")


@contextmanager
def contained(what: str) -> Iterator[None]:
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError):
        raise
    except Exception:
        log.exception("scheduler: %s failed; skipped", what)
