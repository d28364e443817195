"""The product as a user installs it: build the wheel, install it into a fresh venv, and run
the installed `jobmonitor` from a directory outside the checkout, against the test PostgreSQL
and Redis: `migrate` (the migration scripts ship in the wheel), `seed` (so do the example
workflows), a token, the API, `run` and a burst worker; then `up` and `web`, whose web app
builds from the front-end files the wheel ships.

The build and the install reuse pip's cache (PyPI is the only index reached); the web app's
first build installs bun and the front-end packages from the npm registry, as on a user's
machine. Both tests share one installation (module scope).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from backend import migrations
from tests.conftest import ADMIN_URL, _db_url

ROOT = Path(__file__).resolve().parents[2]
# Not copied into the build tree: caches, environments, build output, anything generated.
NOT_SOURCE = shutil.ignore_patterns(
    ".*", "__pycache__", "build", "dist", "*.egg-info", "test-artifacts", "node_modules"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no site packages of ours) with the wheel built from this checkout."""
    base = tmp_path_factory.mktemp("wheel")
    source, dist, venv = base / "src", base / "dist", base / "venv"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)  # build/ is written beside the sources
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _check([*pip, "wheel", "--no-deps", "-w", str(dist), str(source)], timeout=300)
    wheel = next(dist.glob("jobmonitor-*.whl"))
    _check([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=60)
    _check(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-compile", str(wheel)],
        timeout=600,
    )
    return venv


@pytest.fixture
def empty_db() -> Iterator[str]:
    name = f"jmt_wheel_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _db_url(name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def user_env(empty_db: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """A user's environment (this machine's, with its CA settings for npm), without the
    checkout: no PYTHONPATH or venv, nothing of the checkout on PATH; the test's servers."""
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOBMONITOR_", "REFLEX_", "PYTHON", "VIRTUAL_ENV"))
    }
    return {
        **env,
        "PATH": os.pathsep.join(path),
        "JOBMONITOR_DATABASE_URL": empty_db,
        "JOBMONITOR_REDIS_URL": redis_url,
        "JOBMONITOR_QUEUE": f"jm-wheel-{uuid.uuid4().hex[:6]}",
        "JOBMONITOR_DATA_DIR": str(tmp_path / "data"),
    }


def test_installed_wheel_migrates_seeds_and_runs_a_job(
    venv: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    bin_dir = venv / "bin"

    def jobmonitor(*args: str) -> str:
        return _check([str(bin_dir / "jobmonitor"), *args], env=user_env, cwd=tmp_path).stdout

    where = _check(
        [str(bin_dir / "python"), "-c", "import alembic.command; print(alembic.command.__file__)"],
        env=user_env,
        cwd=tmp_path,
    ).stdout
    assert where.startswith(str(venv)), where  # the library, not a shadowing `alembic` of ours

    migrated = _check([str(bin_dir / "jobmonitor"), "migrate"], env=user_env, cwd=tmp_path)
    assert migrations.current_revision(user_env["JOBMONITOR_DATABASE_URL"]) == (
        migrations.head_revision(user_env["JOBMONITOR_DATABASE_URL"])
    ), migrated.stderr
    seeded = _check([str(bin_dir / "jobmonitor"), "seed"], env=user_env, cwd=tmp_path).stderr
    assert "registered basic_sequence" in seeded and "registered memory_first_v2" in seeded
    token = jobmonitor("token", "create", "--role", "admin", "--name", "wheel", "--json")
    client_env = {"JOBMONITOR_TOKEN": json.loads(token)["token"]}

    port = _free_port()
    log = tmp_path / "api.log"
    api = _spawn([str(bin_dir / "jobmonitor"), "api", "--port", str(port)], user_env, log)
    try:
        client_env["JOBMONITOR_URL"] = base = f"http://127.0.0.1:{port}"
        _wait_until_up(api, f"{base}/api/v1/readyz", timeout=30, log=log)
        run = _check(
            [str(bin_dir / "jobmonitor"), "run", "basic_sequence", "--set", "records=5", "--json"],
            env={**user_env, **client_env},
            cwd=tmp_path,
        )
        job_id = json.loads(run.stdout)["id"]
        _check([str(bin_dir / "jobmonitor"), "worker", "--burst", "--simple"], user_env, tmp_path)
        job = httpx.get(
            f"{base}/api/v1/jobs/{job_id}",
            headers={"Authorization": f"Bearer {client_env['JOBMONITOR_TOKEN']}"},
        ).json()
    finally:
        _stop(api)
    assert job["status"] == "completed", job
    assert job["steps_done"] == job["step_count"] == 3


def test_installed_wheel_up_and_web_serve_the_web_app(
    venv: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    """`up` (everything), then `web` (the web tier alone) in the web root `up` prepared."""
    env = {
        **user_env,
        # Reuse the checkout's bun download cache: fewer fetches from the npm registry.
        "BUN_INSTALL_CACHE_DIR": str(ROOT / ".tools" / "bun-cache"),
    }
    jobmonitor = str(venv / "bin" / "jobmonitor")
    commands = (  # every interface: by the setting (up), by the option (web)
        ([jobmonitor, "up", "--workers", "1"], {**env, "JOBMONITOR_HOST": "0.0.0.0"}),
        ([jobmonitor, "web", "--host", "0.0.0.0"], env),
    )
    for argv, argv_env in commands:
        base = f"http://127.0.0.1:{_free_port()}"
        log = tmp_path / f"{argv[1]}.log"
        server = _spawn([*argv, "--port", base.rsplit(":", 1)[1]], argv_env, log)
        try:
            _wait_until_up(server, f"{base}/ping", timeout=240, log=log)
            signin = httpx.get(f"{base}/signin", timeout=10, follow_redirects=True)
            ready = httpx.get(f"{base}/api/v1/readyz", timeout=10)
        finally:
            stopped = _stop(server)
        assert signin.status_code == 200 and "<script" in signin.text, argv
        assert ready.json()["status"] == "ok", argv
        assert stopped == 0, (argv, log.read_text()[-2000:])
        said = " ".join(log.read_text().split())  # rich wraps long lines
        assert "warning: listening on 0.0.0.0" in said and "TLS proxy in front" in said, argv
    # up's banner: the venv's bin is not on this PATH, so it says how to put it there
    assert f"source {venv}/bin/activate" in " ".join((tmp_path / "up.log").read_text().split())
    web_root = Path(user_env["JOBMONITOR_DATA_DIR"]) / "web"
    assert (web_root / "rxconfig.py").is_file() and (web_root / ".web").is_dir()


def _check(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited {proc.returncode}: {log.read_text()[-3000:]}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} did not answer in {timeout}s: {log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM the process (it stops its own children) and wait; then SIGKILL its group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        code = None
    with contextlib.suppress(ProcessLookupError):  # whatever it left behind
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=10) if code is None else code


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
