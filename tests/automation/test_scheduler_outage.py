"""The scheduler survives its database going away: one log line for the outage, no exit, and
after it comes back the due times missed meanwhile fire (catchup=all), each once."""

from __future__ import annotations

import itertools
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.automation.helpers import add_schedule, fires, spawn, wait_until
from tests.integration.conftest import Engine, chain
from tests.tcp_proxy import TcpProxy


def test_database_outage(engine: Engine, db_url: str, tmp_path: Path) -> None:
    params = conninfo_to_dict(db_url)
    host = str(params.get("host") or "")
    if not host or host.startswith("/"):
        pytest.skip("the test database is reached over a Unix socket; the proxy needs TCP")
    proxy = TcpProxy(host, int(params.get("port") or 5432))
    via_proxy = make_conninfo(db_url, host="127.0.0.1", port=str(proxy.port))
    engine.register(chain("tick", "a", action="test.noop"))
    sid = add_schedule(
        engine, "tick", "t", interval_seconds=1, overlap="allow", catchup="all", catchup_max=100
    )
    log = tmp_path / "scheduler.log"
    sink = log.open("wb")
    env = {"JOBMONITOR_DATABASE_URL": via_proxy}
    process = spawn("scheduler", "--interval", "0.2", env=env, stderr=sink)
    try:
        wait_until(lambda: len(fires(engine, sid)) >= 2, 60, "fires before the outage")
        proxy.cut()
        wait_until(lambda: "reconnecting with backoff" in log.read_text(), 60, "the outage line")
        before = len(fires(engine, sid))
        assert process.poll() is None, "the scheduler exited during the outage"
        proxy.restore()
        wait_until(lambda: "connected again" in log.read_text(), 90, "the reconnection")
        wait_until(lambda: len(fires(engine, sid)) >= before + 3, 60, "fires after the outage")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        proxy.close()
        sink.close()
    text = log.read_text()
    assert text.count("reconnecting with backoff") == 1, text  # one line per outage
    due = [f["due_at"] for f in fires(engine, sid)]
    assert {b - a for a, b in itertools.pairwise(due)} == {
        timedelta(seconds=1)
    }  # none lost or twice
