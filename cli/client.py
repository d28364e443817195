"""Which server the CLI's commands call, and with which token.

Where to connect: `--url` > `JOBMONITOR_URL` > the saved profile > http://127.0.0.1:3000, and the
token: `--token` > `JOBMONITOR_TOKEN` > the profile's, which is only sent to the profile's URL.
The calls themselves go through `apiclient.sync.SyncClient`, whose errors are `apiclient.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass

from apiclient.base import normalize_url
from apiclient.sync import SyncClient
from cli import profile

DEFAULT_URL = "http://127.0.0.1:3000"


class NoToken(Exception):
    """No token from --token, JOBMONITOR_TOKEN or a profile for this URL."""


@dataclass(frozen=True)
class Target:
    url: str
    token: str | None


def resolve(url: str | None, token: str | None) -> Target:
    """URL and token by precedence; `url`/`token` already merge the flag and its env var (typer).
    The profile is read only when something is missing."""
    if url and token:
        return Target(normalize_url(url), token)
    saved = profile.load()
    if url:
        base = normalize_url(url)
        same = saved is not None and normalize_url(saved.url) == base
        return Target(base, token or (saved.token if same and saved else None))
    if saved is not None:
        return Target(normalize_url(saved.url), token or saved.token)
    return Target(DEFAULT_URL, token)


def connect(url: str | None, token: str | None) -> SyncClient:
    """A client of the resolved server; NoToken when no token is known for it."""
    target = resolve(url, token)
    if not target.token:
        raise NoToken(target.url)
    return SyncClient(target.url, target.token)
