"""The SSRF guard of outgoing requests: only http(s), and a host whose every address is public,
unless the instance admin allows the host by name in `JOBMONITOR_WEBHOOK_ALLOWED_HOSTS`.
Private, loopback, link-local, multicast and reserved addresses are refused; so is a redirect
to such a host (each hop is checked again). The request goes to the address that was checked
(no second DNS lookup that a rebinding attack could answer differently)."""

from __future__ import annotations

import ipaddress
import socket

import httpx


class Denied(Exception):
    """The request may not go to this URL."""


def check(url: str, allowed_hosts: list[str]) -> str | None:
    """Refuse the URL (Denied), or return the address to connect to: the request then goes
    to that address (with the original Host header and TLS server name), so a DNS answer that
    changes after the check cannot redirect it. None for an allowed host (no pinning)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError is a ValueError
        raise Denied(f"not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise Denied(f"scheme {parsed.scheme!r} is not allowed (http or https)")
    host = parsed.host
    if not host:
        raise Denied("the URL has no host")
    if host.lower() in {h.lower() for h in allowed_hosts}:
        return None
    addresses = sorted(_addresses(host, parsed.port or (443 if parsed.scheme == "https" else 80)))
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not ip.is_global or ip.is_multicast:
            raise Denied(
                f"{host} resolves to {ip}, a private, loopback, link-local or reserved address"
                " (an instance admin can allow the host in JOBMONITOR_WEBHOOK_ALLOWED_HOSTS)"
            )
    return addresses[0]


def pinned(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL to request, extra headers and request extensions for a checked address."""
    if address is None:
        return url, {}, {}
    parsed = httpx.URL(url)
    host = parsed.host
    host_header = host if parsed.port is None else f"{host}:{parsed.port}"
    return str(parsed.copy_with(host=address)), {"Host": host_header}, {"sni_hostname": host}


def _addresses(host: str, port: int) -> set[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: a label IDNA refuses
        raise Denied(f"{host} does not resolve: {exc}") from None
    return {str(info[4][0]).split("%")[0] for info in infos}


def redact(url: str) -> str:
    """The URL without its path, query and credentials (a Slack webhook URL's path is its
    secret)."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    rest = "/…" if parsed.raw_path not in (b"", b"/") else ""
    return f"{parsed.scheme}://{parsed.host}{port}{rest}"
