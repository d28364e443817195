"""`up`'s apt-get run (root on Debian): one run for every missing server package, under a
policy-rc.d that refuses to start their system services, which are disabled afterwards.
apt-get, systemctl and update-rc.d are stand-ins on PATH that record what they were asked
(the real install is what `up` does on a fresh machine; this machine has the packages)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli.services import system
from cli.services.system import install_packages

RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "$RECORD"
if [ "$(basename "$0")" = apt-get ] && [ "$2" = install ]; then
  "$POLICY_RC_D" postgresql start; echo "policy-rc.d says $?" >> "$RECORD"
fi
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/etc/debian_version").exists(),
    reason="needs root on Debian",
)
def test_packages_install_in_one_run_without_their_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("apt-get", "systemctl", "update-rc.d"):
        (bin_dir / name).write_text(RECORDER)
        (bin_dir / name).chmod(0o755)
    policy = tmp_path / "policy-rc.d"  # where invoke-rc.d looks: /usr/sbin/policy-rc.d
    monkeypatch.setattr(system, "POLICY_RC_D", str(policy))
    record = tmp_path / "record"
    monkeypatch.setenv("RECORD", str(record))
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin")
    said: list[str] = []
    install_packages(["postgresql", "redis-server"], said.append)
    lines = record.read_text().splitlines()
    assert lines[:3] == [
        "apt-get -q update",
        "apt-get -q install -y postgresql redis-server",
        "policy-rc.d says 101",  # invoke-rc.d / deb-systemd-invoke start nothing
    ]
    if Path("/run/systemd/system").is_dir():
        disabled = ["systemctl disable --now postgresql", "systemctl disable --now redis-server"]
    else:
        disabled = ["update-rc.d postgresql disable", "update-rc.d redis-server disable"]
    assert lines[3:] == disabled
    assert not policy.exists()  # ours, removed again
    policy.write_text("#!/bin/sh\nexit 101\n")  # an administrator's own: kept
    policy.chmod(0o755)
    install_packages(["redis-server"], said.append)
    assert policy.exists()
    assert "their system services stay stopped and disabled" in said[0]
