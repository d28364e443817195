"""CPU meters for bench/peers.py, read from /proc: process trees (the workers and everything
they fork), PostgreSQL backends of one database, and the Redis server (its INFO)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children) from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # after the command: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based
    ppid = int(fields[1])
    ticks = sum(int(v) for v in fields[11:15])
    return ppid, ticks / TICK


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds of the process trees under `roots` (alive processes + what they reaped)."""
    stats = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))):
            stats[int(entry.name)] = stat
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [r for r in roots if r in stats]
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


class PgCpu:
    """CPU of the PostgreSQL backends connected to one database: pg_stat_activity's pids and
    their /proc stat, sampled every 20 ms in a thread so that short-lived backends are seen
    (one that lives less than that is missed)."""

    def __init__(self, admin_url: str, dbname: str, skip_app: str = "") -> None:
        import psycopg

        self.conn = psycopg.connect(admin_url, autocommit=True)
        self.dbname = dbname
        self.skip_app = skip_app  # connections of this application_name are not counted
        self.last: dict[int, float] = {}  # pid -> CPU seconds last seen (kept after it ends)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        with self.lock:
            rows = self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
                (self.dbname, self.skip_app),
            ).fetchall()
            for (pid,) in rows:
                if (stat := proc_stat(pid)) is not None:
                    self.last[pid] = stat[1]

    def _loop(self) -> None:
        while not self.stopped.wait(0.02):
            self._sample()

    def total(self) -> dict[int, float]:
        """A fresh sample: pid -> CPU seconds (compare two with pg_delta)."""
        self._sample()
        with self.lock:
            return dict(self.last)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.conn.close()


def pg_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two PgCpu samples; backends born in between count whole."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def redis_cpu(url: str) -> float:
    """CPU seconds of the Redis server (all its clients: run when the machine is quiet)."""
    from redis import Redis

    info: dict[str, Any] = Redis.from_url(url).info("cpu")  # type: ignore[assignment]
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
