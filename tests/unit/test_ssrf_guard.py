"""The SSRF guard: which addresses are refused, and the pinned request to a checked address."""

from __future__ import annotations

import pytest

from backend.notify import guard


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",
        "http://172.16.5.4/x",
        "http://192.168.1.1/x",
        "http://127.0.0.1:8080/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://[fe80::1]/x",
        "http://0.0.0.0/x",
        "http://224.0.0.1/x",
        "ftp://93.184.216.34/x",
        "http://" + "a" * 70 + ".example.com/x",  # a label IDNA refuses: not a 500
        "http://a..b/x",
        "http://[::1/x",
        "http://x\x00y.example.com/",
    ],
)
def test_denied(url: str) -> None:
    with pytest.raises(guard.Denied):
        guard.check(url, [])


def test_allowed_hosts_and_public_addresses() -> None:
    assert guard.check("http://127.0.0.1:9/x", ["127.0.0.1"]) is None  # allowed: not pinned
    assert guard.check("https://93.184.216.34/x", []) == "93.184.216.34"


def test_pinned_request_keeps_host_and_server_name() -> None:
    url, headers, extensions = guard.pinned("https://hooks.example.com:8443/a?b=1", "93.184.216.34")
    assert url == "https://93.184.216.34:8443/a?b=1"
    assert headers == {"Host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}
    assert guard.pinned("http://x.test/a", None) == ("http://x.test/a", {}, {})
    assert (
        guard.redact("https://hooks.slack.com/services/T0/B0/XXXX") == "https://hooks.slack.com/…"
    )
