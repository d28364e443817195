"""Client commands read `.env` like the server-side ones, and their tables stay whole when
stdout is not a terminal (a plain layout, no width limit, ids never cut)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli


def test_client_commands_read_the_env_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = cli.start()
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(
        f"JOBMONITOR_URL={cli.url}\nJOBMONITOR_TOKEN={cli.tokens['viewer']}\nOTHER=1\n"
    )
    monkeypatch.chdir(project)
    monkeypatch.delenv("JOBMONITOR_URL", raising=False)
    monkeypatch.delenv("JOBMONITOR_TOKEN", raising=False)
    listed = cli("jobs", "--json", role=None)
    assert listed.exit_code == 0, listed.stderr
    assert job in listed.stdout
    # the environment wins over the file, as for the settings
    wrong = cli("jobs", role=None, env={"JOBMONITOR_TOKEN": "jm_00000000_nope"})
    assert wrong.exit_code == 2


def test_piped_tables_are_plain_and_whole(cli: Cli) -> None:
    ids = [cli.start() for _ in range(2)]
    for args in (["jobs"], ["workflows"], ["show", ids[0]]):
        result = cli(*args, env={"COLUMNS": "40"})  # a narrow terminal, but stdout is a pipe
        assert result.exit_code == 0, result.stderr
        assert "…" not in result.stdout, result.stdout
        assert not set("─━│┃") & set(result.stdout), result.stdout
    listed = cli("jobs", env={"COLUMNS": "40"}).stdout.splitlines()
    assert listed[0].split()[:3] == ["id", "workflow", "status"]
    assert sorted(line.split()[0] for line in listed[1:]) == sorted(ids)
    assert all(line.split()[1] == "echo3" for line in listed[1:])
