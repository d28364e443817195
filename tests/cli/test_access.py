"""Where the CLI connects and with what: --url/--token, the environment, the login profile;
exit 3 when the server cannot be reached; `--help` of every command has an example."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from typing import Any

import typer.main
from typer.testing import CliRunner

from cli.main import app
from tests.api.conftest import free_port
from tests.cli.conftest import Cli


def _commands() -> list[list[str]]:
    """The path of every command, e.g. ["workflows", "validate"], and of the groups that run
    something themselves (`workflows` lists)."""
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        subcommands = getattr(command, "commands", {})  # typer vendors click: duck-type groups
        if not subcommands or getattr(command, "invoke_without_command", False):
            paths.append(path)
        for name, sub in subcommands.items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return [p for p in paths if p]


def test_every_command_has_help_with_an_example() -> None:
    commands = _commands()
    names = {" ".join(p) for p in commands}
    for expected in (
        "run",
        "watch",
        "jobs",
        "show",
        "logs",
        "export",
        "cancel",
        "resume",
        "rerun",
        "workflows",
        "workflows show",
        "workflows register",
        "workflows validate",
        "doctor",
        "prune",
        "audit",
        "preflight",
        "history",
        "report",
        "token create",
        "token list",
        "token revoke",
        "login",
        "logout",
        "up",
        "worker",
        "reaper",
        "migrate",
        "seed",
        "compare",
        "failures",
        "failures resolve",
        "failures rerun",
        "views save",
    ):
        assert expected in names, expected
    runner = CliRunner()
    for path in commands:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, path
        assert "Example" in result.stdout, f"`jobmonitor {' '.join(path)} --help` has no example"


def test_an_unreachable_server_exits_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "JOBMONITOR_URL": url,
        "JOBMONITOR_TOKEN": "jm_x",
        "XDG_CONFIG_HOME": "/nonexistent",
    }
    for args in (
        ["jobs"],
        ["run", "echo3"],
        ["watch", "3f2c9a1e-4d6b-4c1a-9a8e-2b7f0c5d1e42"],
        ["doctor"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 3, (args, done.stderr)
        assert f"cannot reach the API at {url}" in done.stderr and "jobmonitor up" in done.stderr


def test_tokens_urls_and_the_login_profile(cli: Cli) -> None:
    no_token = cli("jobs", role=None)
    assert (
        no_token.exit_code == 2
        and "no API token" in no_token.stderr
        and "jobmonitor login" in no_token.stderr
    )
    bad = cli("jobs", env={"JOBMONITOR_TOKEN": "jm_00000000_nope"})
    assert bad.exit_code == 2 and "invalid or revoked token" in bad.stderr

    flags = cli("jobs", "--url", cli.url + "/api/v1/", "--token", cli.tokens["viewer"], role=None)
    assert flags.exit_code == 0

    login = cli("login", "--url", cli.url, "--token", cli.tokens["admin"], role=None)
    assert login.exit_code == 0 and "admin-token (admin)" in login.stderr
    profile = cli.config_home / "jobmonitor" / "profile.json"
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    assert stat.S_IMODE(profile.parent.stat().st_mode) == 0o700
    assert json.loads(profile.read_text())["url"] == cli.url
    assert cli("audit", role=None).exit_code == 0  # the profile's admin token
    assert (
        cli("audit", role=None, env={"JOBMONITOR_TOKEN": cli.tokens["viewer"]}).exit_code == 2
    )  # env wins

    elsewhere = f"http://127.0.0.1:{free_port()}"
    other = cli("jobs", "--url", elsewhere, role=None)
    assert (
        other.exit_code == 2 and f"no API token for {elsewhere}" in other.stderr
    )  # never sent to another server

    refused = cli("login", "--url", cli.url, role=None, stdin="jm_00000000_wrong\n")
    assert (
        refused.exit_code == 2 and json.loads(profile.read_text())["token"] == cli.tokens["admin"]
    )
    piped = cli("login", "--url", cli.url, "--json", role=None, stdin=cli.tokens["viewer"] + "\n")
    assert piped.exit_code == 0 and json.loads(piped.stdout)["role"] == "viewer"

    assert cli("logout", role=None).exit_code == 0 and not profile.exists()
    assert "nothing to do" in cli("logout", role=None).stderr
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text("{not json")
    damaged = cli("jobs", role=None)
    assert damaged.exit_code == 2 and "run `jobmonitor login` again" in damaged.stderr
