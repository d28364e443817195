"""backend.outages: which errors are outages, the backoff's bounds, and retry's contract."""

from __future__ import annotations

import logging

import psycopg
import pytest
import redis.exceptions

from backend import outages


@pytest.fixture(autouse=True)
def no_outage_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with PostgreSQL and Redis up as this process sees them: an earlier test
    in the same worker process may have left one noted as down (its first failure is then not
    logged again)."""
    for outage in outages.OUTAGES.values():
        monkeypatch.setattr(outage, "since", None)


def test_only_connection_errors_are_outages() -> None:
    assert outages.dependency_of(psycopg.OperationalError("gone")) == "PostgreSQL"
    assert outages.dependency_of(redis.exceptions.ConnectionError("gone")) == "Redis"
    assert outages.dependency_of(psycopg.errors.DeadlockDetected("d")) is None
    assert outages.dependency_of(psycopg.errors.UniqueViolation("u")) is None
    assert outages.dependency_of(ValueError("bug")) is None


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    backoff = outages.Backoff(first=0.1, cap=3.0)
    delays = [backoff.next() for _ in range(12)]
    assert 0.05 <= delays[0] <= 0.1
    assert all(outages.MAX_DELAY / 2 <= d <= outages.MAX_DELAY for d in delays[6:])
    assert len(set(delays[6:])) > 1  # jittered
    backoff.reset()
    assert backoff.next() <= 0.1


def test_retry_waits_out_an_outage_and_logs_it_once(caplog: pytest.LogCaptureFixture) -> None:
    calls = {"n": 0}
    slept: list[float] = []

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 5:
            raise psycopg.OperationalError("connection refused")
        return "ok"

    with caplog.at_level(logging.WARNING, logger="backend.outages"):
        assert outages.retry(flaky, sleep=slept.append) == "ok"
    assert calls["n"] == 5 and len(slept) == 4
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "PostgreSQL unavailable" in m]) == 1
    assert len([m for m in messages if "PostgreSQL is back" in m]) == 1


def test_retry_raises_other_errors_at_once() -> None:
    def broken() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        outages.retry(broken, sleep=lambda _: None)
