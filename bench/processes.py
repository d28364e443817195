"""Processes for bench/peers.py: CPU meters read from /proc (process trees: the workers and
everything they fork; the PostgreSQL backends of one database) and from Redis's INFO; stopping
the process groups it started; the machine line for the README."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
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


def stop(*procs: subprocess.Popen[Any], grace: float = 15.0) -> None:
    """SIGTERM to the process groups this script started, SIGKILL after `grace` seconds."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_idle(roots: list[int], timeout: float = 60.0) -> None:
    """Until the workers have finished starting (under 20% of a core over 0.5 s)."""
    deadline = time.monotonic() + timeout
    before = tree_cpu(roots)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = tree_cpu(roots)
        if now - before < 0.1 * len(roots):
            return
        before = now


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine(admin_url: str, redis_url: str) -> str:
    """CPU model and count, memory, PostgreSQL and Redis versions, for the README."""
    import psycopg
    from redis import Redis

    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if "model name" in ln), "?"
    )
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(admin_url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()
    redis_info: dict[str, Any] = Redis.from_url(redis_url).info("server")  # type: ignore[assignment]
    return (
        f"{os.cpu_count()} x {model}, {mem_gib:.0f} GiB, Python {sys.version.split()[0]}, "
        f"PostgreSQL {pg[0] if pg else '?'}, Redis {redis_info['redis_version']}, loopback"
    )
