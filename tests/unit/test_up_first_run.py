"""`up`'s first-run helpers: `jobmonitor` on PATH (a ~/.local/bin link or the exact line to
type), the servers file other commands read, one message listing every missing package, and
the warning for a web app listening beyond loopback."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cli import pathlink
from cli.services import recorded
from cli.services.system import missing_packages_message
from cli.webapp import exposure_warning, local_url

VENV_BIN = str(Path(sys.executable).parent)


def test_the_link_puts_the_venvs_jobmonitor_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    place = pathlink.where(home=tmp_path)
    assert place.script == Path(VENV_BIN) / "jobmonitor"
    assert not place.on_path and not place.linked
    before = pathlink.hint(place)
    assert before is not None and f"source {VENV_BIN}/activate" in before
    assert f'export PATH={VENV_BIN}:"$PATH"' in before

    assert pathlink.make_link(place) is None
    assert place.linked and (tmp_path / ".local/bin/jobmonitor").is_symlink()
    assert 'export PATH="$HOME/.local/bin:$PATH"' in (pathlink.hint(place) or "")

    # what the README's commands need: `jobmonitor` resolves in a shell with that PATH
    shell_path = f"{tmp_path}/.local/bin:/usr/bin:/bin"
    done = subprocess.run(
        ["bash", "-c", "command -v jobmonitor && jobmonitor token --help"],
        env={"PATH": shell_path, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{tmp_path}/.local/bin/jobmonitor")
    assert "create" in done.stdout
    monkeypatch.setenv("PATH", shell_path)
    assert place.on_path and pathlink.hint(place) is None


def test_a_file_in_the_links_place_is_left_alone(tmp_path: Path) -> None:
    place = pathlink.where(home=tmp_path)
    place.link.parent.mkdir(parents=True)
    place.link.write_text("#!/bin/sh\n")
    assert "is not a link: left alone" in (pathlink.make_link(place) or "")
    assert place.link.read_text() == "#!/bin/sh\n"


def test_linking_is_asked_for_and_a_no_is_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOBMONITOR_LINK_CLI", raising=False)
    assert pathlink.wanted(True, tmp_path, ask=False)
    assert not pathlink.wanted(False, tmp_path, ask=False)
    monkeypatch.setattr("builtins.input", lambda _prompt: "n")
    assert not pathlink.wanted(False, tmp_path, ask=True)
    monkeypatch.setattr("builtins.input", lambda _prompt: "y")
    assert not pathlink.wanted(False, tmp_path, ask=True)  # asked once: the no stands
    (tmp_path / pathlink.DECLINED).unlink()
    assert pathlink.wanted(False, tmp_path, ask=True)
    monkeypatch.setenv("JOBMONITOR_LINK_CLI", "1")
    assert pathlink.wanted(False, tmp_path, ask=False)


def test_the_servers_file_fills_only_what_is_not_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = {
        "JOBMONITOR_DATABASE_URL": "postgresql://postgres@127.0.0.1:54329/jobmonitor",
        "JOBMONITOR_REDIS_URL": "redis://127.0.0.1:63799",
    }
    written = recorded.write(tmp_path, urls)
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    monkeypatch.setenv("JOBMONITOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JOBMONITOR_REDIS_URL", "redis://configured:6379")
    monkeypatch.delenv("JOBMONITOR_DATABASE_URL", raising=False)
    assert recorded.apply() == ["JOBMONITOR_DATABASE_URL"]
    assert os.environ["JOBMONITOR_DATABASE_URL"] == urls["JOBMONITOR_DATABASE_URL"]
    assert os.environ["JOBMONITOR_REDIS_URL"] == "redis://configured:6379"
    recorded.remove(tmp_path)
    monkeypatch.delenv("JOBMONITOR_DATABASE_URL")
    assert recorded.apply() == [] and "JOBMONITOR_DATABASE_URL" not in os.environ


def test_one_message_lists_every_missing_package() -> None:
    message = missing_packages_message(
        ["python3.11-venv", "postgresql", "redis-server", "postgresql"]
    )
    assert message.count("postgresql") == 2  # the list and the one command
    lines = message.splitlines()
    assert lines[0].startswith(
        "missing system packages: postgresql, python3.11-venv, redis-server."
    )
    assert [line for line in lines if "apt-get" in line] == [
        "    sudo apt-get install -y postgresql python3.11-venv redis-server"
    ]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_is_not_warned_about(host: str) -> None:
    assert exposure_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "jobs.example.com"])
def test_other_interfaces_are_warned_about(host: str) -> None:
    warning = exposure_warning(host) or ""
    assert f"listening on {host}" in warning and "TLS proxy in front" in warning


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:3000"),
        ("0.0.0.0", "http://127.0.0.1:3000"),
        ("::", "http://127.0.0.1:3000"),
        ("10.1.2.3", "http://10.1.2.3:3000"),
        ("::1", "http://[::1]:3000"),
    ],
)
def test_the_local_url_of_a_listening_address(host: str, url: str) -> None:
    """What up's banner links to and the web app's own API client uses."""
    assert local_url(host, 3000) == url


def test_the_servers_file_is_found_from_outside_the_checkout() -> None:
    """Through the ~/.local/bin link, from any directory: the checkout of the running venv."""
    checkout = Path(sys.prefix).parent
    if not (checkout / "pyproject.toml").is_file():
        pytest.skip("not run from a checkout's venv")
    assert recorded.candidates({}) == [
        Path(".jobmonitor/servers.env"),
        checkout / ".jobmonitor" / "servers.env",
    ]
    assert recorded.candidates({"JOBMONITOR_DATA_DIR": "/srv/jm"}) == [Path("/srv/jm/servers.env")]


def test_no_servers_file_when_every_server_is_configured(tmp_path: Path) -> None:
    recorded.write(tmp_path, {"JOBMONITOR_REDIS_URL": "redis://127.0.0.1:63799"})
    assert recorded.path(tmp_path).is_file()
    recorded.write(tmp_path, {"JOBMONITOR_DATABASE_URL": "", "JOBMONITOR_REDIS_URL": ""})
    assert not recorded.path(tmp_path).exists()
