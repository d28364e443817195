"""Jobmonitor's engine side by side with durable peers and non-durable floors.

    python bench/peers.py [--rounds 5] [--systems jm-simple,dbos,...] [--quick] [--json FILE]

Systems: Jobmonitor (SimpleWorker, forking Worker), raw rq 2.12 (SimpleWorker, forking
Worker) and Celery 5.7 as non-durable floors; procrastinate 3.10, DBOS 3.4 and Prefect 3.9
(with a PostgreSQL server) as durable peers; and the durable floor (rq-floor): raw rq's
SimpleWorker plus the least Jobmonitor's record needs, a claim and a fenced completion in
PostgreSQL per step (bench/peers/rq_floor/tasks.py), a bound for any design that keeps that
record and carries each step through rq. Each peer runs in its own virtualenv, made once
from bench/peers/<peer>/requirements.txt under .bench-venvs/ (gitignored); its workload code
is bench/peers/<peer>/ (Jobmonitor's: bench/peers_jm.py). Each system gets its own fresh database on the local PostgreSQL and
its own Redis database (claimed like the tests claim theirs), dropped and flushed at the end.

Workloads, no-op steps, 2 worker processes (Celery: one prefork worker with concurrency 2;
Prefect: two processes running one flow run at a time each, in process: see
bench/peers/prefect/adapter.py), workers started and idle beforehand, a warm-up of 4 runs:
  W1  100 runs of a 10-step chain, submitted at once: steps/s from the first submit to the
      check that sees the last run done;
  W2  50 runs of a fan-out 1 -> 8 -> 1, the same way;
  W3  3-step chains submitted one at a time: submit -> done latency (the record is checked
      every 2 ms), plus Jobmonitor's parent -> child latency (database clock).
A workload counts only when the system's own record shows every step completed; otherwise
the round is reported as failed. Systems are interleaved round by round (the order rotates).

CPU per step is the user + system time spent during W1 and W2 by the workers' process trees
(work horses and pool children included), by the PostgreSQL backends connected to the
system's database (pg_stat_activity sampled every 20 ms, /proc/<pid>/stat; a backend that
lives less than that is missed), by the peer's server (Prefect), and by the Redis server (from
its INFO; Redis is shared with the machine, so run this when the machine is quiet).
Idle costs of the workers (polling, heartbeats) during the window are included; the
submitting process's own CPU is not, nor the backends of its completion checks (their
application_name is bench-poll); Prefect's checks go through its server and are in its figures.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.peers_table import format_table, medians, percentile, print_failures, round_rows
from bench.processes import (
    PgCpu,
    free_port,
    machine,
    pg_delta,
    redis_cpu,
    stop,
    tree_cpu,
    wait_idle,
)

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
CACHE = ROOT / ".bench-venvs"
LOGS = CACHE / "logs"
ADMIN = os.environ.get(
    "JOBMONITOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_BASE = os.environ.get("JOBMONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
RUNS = {"W1": 100, "W2": 50, "W3": 30}
POLL_APP = "bench-poll"  # as in bench/peers/workload.py: the harness's completion checks


@dataclass(frozen=True)
class System:
    name: str
    label: str
    records: str  # what it records durably, for the README
    peer: str | None = None  # virtualenv + adapter under bench/peers/; None: Jobmonitor
    worker_args: tuple[str, ...] = ()
    processes: int = 2
    redis: bool = False
    postgres: bool = True
    server: bool = False  # Prefect's API server


SYSTEMS = [
    System(
        "jm-simple",
        "Jobmonitor, SimpleWorker",
        "job, step and attempt rows (leases, fences), events, costs, metrics in PostgreSQL",
        worker_args=("--simple",),
        redis=True,
    ),
    System("jm-fork", "Jobmonitor, forking Worker", "as jm-simple", redis=True),
    System(
        "rq-simple",
        "raw rq 2.12, SimpleWorker",
        "nothing durable (job hashes in Redis)",
        "rq",
        ("--simple",),
        redis=True,
        postgres=False,
    ),
    System(
        "rq-fork",
        "raw rq 2.12, forking Worker",
        "as rq-simple",
        "rq",
        ("--fork",),
        redis=True,
        postgres=False,
    ),
    System(
        "rq-floor",
        "durable floor: raw rq 2.12, SimpleWorker, + 2 statements per step",
        "an attempt row (claim with a lease, fenced completion) and two events per step"
        " in PostgreSQL: the least Jobmonitor's record needs (bench/peers/rq_floor)",
        "rq_floor",
        ("--simple",),
        redis=True,
    ),
    System(
        "celery",
        "Celery 5.7, Redis broker",
        "nothing durable (task results in Redis)",
        "celery",
        processes=1,
        redis=True,
        postgres=False,
    ),
    System(
        "procrastinate",
        "procrastinate 3.10",
        "a job row per step and its status events in PostgreSQL",
        "procrastinate",
    ),
    System(
        "dbos",
        "DBOS 3.4",
        "a workflow status row per workflow and a checkpoint row per step in PostgreSQL",
        "dbos",
    ),
    System(
        "prefect",
        "Prefect 3.9, PostgreSQL server",
        "flow and task run rows with their state history in PostgreSQL, via its API server",
        "prefect",
        server=True,
    ),
]
BY_NAME = {s.name: s for s in SYSTEMS}


# ---------------------------------------------------------------- environments


def ensure_venv(peer: str) -> Path:
    """The peer's virtualenv, made once from its pinned requirements (remade when they change)."""
    requirements = PEERS / peer / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    venv = CACHE / peer
    stamp = venv / "requirements.sha256"
    if stamp.exists() and stamp.read_text() == digest and (venv / "bin" / "python").exists():
        return venv
    print(f"creating {venv} from {requirements.relative_to(ROOT)} (once)", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", "-r", str(requirements)], check=True)
    stamp.write_text(digest)
    return venv


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def claim_redis_dbs(count: int, owner: str) -> list[int]:
    """Redis database numbers claimed the way the test suite claims them (keys in db 0), from
    12 down: 13 (bench/engine.py) and 14-15 (the browser tests) are flushed without a claim."""
    from redis import Redis

    claims = Redis.from_url(REDIS_BASE + "/0")
    got: list[int] = []
    for number in range(12, 0, -1):
        if len(got) == count:
            break
        if claims.set(f"jobmonitor-tests:db:{number}", owner, nx=True, ex=6 * 3600):
            got.append(number)
    if len(got) < count:
        release_redis_dbs(got)
        raise SystemExit(f"only {len(got)} free Redis databases, {count} needed")
    return got


def release_redis_dbs(numbers: list[int]) -> None:
    from redis import Redis

    for number in numbers:
        Redis.from_url(f"{REDIS_BASE}/{number}").flushdb()
        Redis.from_url(REDIS_BASE + "/0").delete(f"jobmonitor-tests:db:{number}")


@dataclass
class Prepared:
    """A system's database, Redis database, environment and (Prefect) server."""

    system: System
    dbname: str
    env: dict[str, str]
    python: str
    server: subprocess.Popen[bytes] | None = None
    redis_url: str | None = None
    log: IO[bytes] | None = field(default=None, repr=False)

    def command(self, *args: str) -> list[str]:
        if self.system.peer is None:
            return [self.python, str(ROOT / "bench" / "peers_jm.py"), *args]
        return [self.python, str(PEERS / self.system.peer / "adapter.py"), *args]

    def worker_command(self) -> list[str]:
        if self.system.peer is None:
            return [self.python, "-m", "cli.main", "worker", *self.system.worker_args]
        return self.command("worker", *self.system.worker_args)


def prepare(system: System, redis_db: int | None) -> Prepared:
    """The system's fresh database, Redis database, environment, setup and server; its
    processes' output goes to .bench-venvs/logs/<system>.log."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = (LOGS / f"{system.name}.log").open("ab")
    dbname = "bench_peers_" + system.name.replace("-", "_")
    admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{dbname}"')
    url = ADMIN.rpartition("/")[0] + "/" + dbname
    env = {**os.environ, "BENCH_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    redis_url = f"{REDIS_BASE}/{redis_db}" if redis_db is not None else None
    if redis_url:
        env["BENCH_REDIS_URL"] = redis_url
    if system.peer is None:
        python = sys.executable
        env.update(
            JOBMONITOR_DATABASE_URL=url,
            JOBMONITOR_REDIS_URL=redis_url or "",
            JOBMONITOR_STEP_MODULES="bench.steps",
            JOBMONITOR_QUEUE="bench",
            PYTHONPATH=str(ROOT),
        )
    else:
        python = str(ensure_venv(system.peer) / "bin" / "python")
    prepared = Prepared(system, dbname, env, python, redis_url=redis_url, log=log)
    try:
        if system.server:
            start_prefect_server(prepared, url)
        subprocess.run(
            prepared.command("setup"), env=env, cwd=ROOT, check=True, stdout=log, stderr=log
        )
    except BaseException:  # interrupted or failed: nothing of it stays behind
        cleanup(prepared)
        raise
    return prepared


def start_prefect_server(prepared: Prepared, url: str) -> None:
    """Prefect's API server on the system's database, kept for all rounds (prepared.server)."""
    port = free_port()
    home = CACHE / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    prepared.env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_API_DATABASE_CONNECTION_URL=url.replace("postgresql://", "postgresql+asyncpg://"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    prefect = str(Path(prepared.python).parent / "prefect")
    prepared.server = server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=prepared.env,
        stdout=prepared.log,
        stderr=prepared.log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        health = f"http://127.0.0.1:{port}/api/health"
        with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2):
            return
        if server.poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError("the Prefect server did not answer /api/health (its log: logs/prefect.log)")


def cleanup(prepared: Prepared) -> None:
    if prepared.server is not None:
        stop(prepared.server)
    with contextlib.suppress(Exception):
        admin(f'DROP DATABASE IF EXISTS "{prepared.dbname}" WITH (FORCE)')
    if prepared.log is not None:
        prepared.log.close()


# ---------------------------------------------------------------- one system, one round


class Session:
    """A running adapter session: JSON lines in, JSON lines out, with a timeout per line."""

    def __init__(self, prepared: Prepared) -> None:
        self.proc = subprocess.Popen(
            prepared.command("session"),
            env=prepared.env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=prepared.log,
            start_new_session=True,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(b"")

    def receive(self, timeout: float) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return {"ok": False, "error": f"no answer in {timeout:.0f}s"}
        return json.loads(line) if line else {"ok": False, "error": "the session ended"}

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.stdin:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            stop(self.proc)


@contextlib.contextmanager
def workers(prepared: Prepared) -> Iterator[list[int]]:
    """The system's worker processes, each in its own process group, stopped on the way out
    (also when interrupted while they start)."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(prepared.system.processes):
            procs.append(
                subprocess.Popen(
                    prepared.worker_command(),
                    env=prepared.env,
                    cwd=ROOT,
                    stdout=prepared.log,
                    stderr=prepared.log,
                    start_new_session=True,
                )
            )
        yield [p.pid for p in procs]
    finally:
        stop(*procs)


def run_round(prepared: Prepared, runs: dict[str, int], number: int) -> dict[str, Any]:
    """W1, W2 and W3 against freshly started workers; each workload's figures."""
    if prepared.log is not None:
        prepared.log.write(f"=== round {number} {time.strftime('%H:%M:%S')}\n".encode())
        prepared.log.flush()
    if prepared.redis_url:
        from redis import Redis

        Redis.from_url(prepared.redis_url).flushdb()
    result: dict[str, Any] = {"system": prepared.system.name}
    pg = PgCpu(ADMIN, prepared.dbname, skip_app=POLL_APP)
    try:
        with workers(prepared) as pids:
            wait_idle(pids)
            session = Session(prepared)
            try:
                ready = session.receive(timeout=300)
                if not ready.get("ready"):
                    result["error"] = f"warm-up failed: {ready}"
                    return result
                for name, count in runs.items():
                    result[name] = measure(session, pg, pids, prepared, name, count)
            finally:
                session.close()
    finally:
        pg.close()
        result["load1"] = os.getloadavg()[0]
    return result


def measure(
    session: Session, pg: PgCpu, pids: list[int], prepared: Prepared, name: str, runs: int
) -> dict[str, Any]:
    system, server = prepared.system, [prepared.server.pid] if prepared.server else []
    pg0, w0, s0, r0 = pg.total(), tree_cpu(pids), tree_cpu(server), redis_cpu(REDIS_BASE + "/0")
    session.send({"workload": name, "runs": runs})
    out = session.receive(timeout=700)
    pg1, w1, s1, r1 = pg.total(), tree_cpu(pids), tree_cpu(server), redis_cpu(REDIS_BASE + "/0")
    figures = {
        "ok": bool(out.get("ok")),
        "error": out.get("error"),
        "steps": out.get("steps_expected"),
        "steps_completed": out.get("steps_completed"),
        "window_s": out.get("window_s"),
        "cpu_s": {  # None: the system does not use that server
            "workers": w1 - w0,
            "postgres": pg_delta(pg0, pg1) if system.postgres else None,
            "server": s1 - s0 if system.server else None,
            "redis": r1 - r0 if system.redis else None,
        },
    }
    if out.get("window_s") and out.get("steps_expected"):
        figures["steps_per_s"] = out["steps_expected"] / out["window_s"]
    if out.get("latencies_ms"):
        figures["latencies_ms"] = out["latencies_ms"]
        figures["p50_ms"] = percentile(out["latencies_ms"], 50)
        figures["p95_ms"] = percentile(out["latencies_ms"], 95)
    figures.update(out.get("extra") or {})
    return figures


# ---------------------------------------------------------------- main


def run_all(systems: list[System], rounds: int, runs: dict[str, int]) -> list[list[dict[str, Any]]]:
    """Every system once per round, the order rotating; each round's table as it ends."""
    owner = f"peers-bench:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    redis_dbs = claim_redis_dbs(sum(s.redis for s in systems), owner)
    free_dbs = iter(redis_dbs)
    prepared: dict[str, Prepared] = {}
    all_rounds: list[list[dict[str, Any]]] = []
    try:
        for s in systems:
            prepared[s.name] = prepare(s, next(free_dbs) if s.redis else None)
        for number in range(1, rounds + 1):
            shift = (number - 1) % len(systems)
            results = []
            for s in systems[shift:] + systems[:shift]:
                results.append(run_round(prepared[s.name], runs, number))
                print(f"  round {number}: {s.name} done", flush=True)
            results.sort(key=lambda r: [s.name for s in systems].index(r["system"]))
            all_rounds.append(results)
            print(f"\nround {number} of {rounds}")
            print(format_table(round_rows(all_rounds)[-1]), flush=True)
            print_failures(results)
    finally:
        for p in prepared.values():
            cleanup(p)
        release_redis_dbs(redis_dbs)
    return all_rounds


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--systems", default=",".join(BY_NAME), help="comma-separated")
    parser.add_argument("--quick", action="store_true", help="one round, fewer runs (smoke)")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, interrupted)  # clean up as on Ctrl-C
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown systems: {unknown}; known: {list(BY_NAME)}")
    systems = [BY_NAME[n] for n in names]
    rounds = 1 if args.quick else args.rounds
    runs = {"W1": 20, "W2": 10, "W3": 10} if args.quick else RUNS
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print(
        f"peers: {started}, {rounds} round(s), runs {runs}\n  {machine(ADMIN, REDIS_BASE)}",
        flush=True,
    )
    for s in systems:
        print(f"  {s.name:<14} {s.label}: {s.records}")
    all_rounds = run_all(systems, rounds, runs)
    table = round_rows(all_rounds)
    summary = medians(table, names)
    print(f"\nmedians over {rounds} round(s) (failed rounds not counted; logs: {LOGS})")
    print(format_table(summary))
    for row in summary:
        if row["failed"]:
            print(f"  {row['system']}: {row['failed']} failed round(s)")
    print("what each system records durably:")
    for s in systems:
        print(f"  {s.name:<14} {s.label}: {s.records}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "started": started,
                    "argv": sys.argv,
                    "machine": machine(ADMIN, REDIS_BASE),
                    "runs": runs,
                    "systems": {s.name: {"label": s.label, "records": s.records} for s in systems},
                    "rounds": all_rounds,
                    "table": table,
                    "medians": summary,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
