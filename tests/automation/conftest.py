"""The API, CLI and engine fixtures, shared with the automation tests."""

from tests.api.conftest import live_server, world
from tests.cli.conftest import cli, server
from tests.integration.conftest import engine

__all__ = ["cli", "engine", "live_server", "server", "world"]
