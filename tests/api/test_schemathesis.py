"""Property-based requests from the OpenAPI document (schemathesis, fixed seed, bounded
examples, positive and negative) as an admin of workspace A: no request may cause a 5xx, and
successful bodies match their documented schemas. The SSE stream is left out (it does not end
by itself); tests/api/test_events.py covers it."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import World, shared_app

MAX_EXAMPLES = 12
# Seconds a request may take. The fuzz checks status codes and schemas, not speed; it runs at a
# low CPU priority beside the parallel run (scripts/test), where a request has waited more than
# schemathesis's default of 10 s for a core.
REQUEST_TIMEOUT = 60

# The app reads its database and Redis from the environment per request, so one instance
# serves every test's fresh database (the `world` fixture sets it).
schema = schemathesis.openapi.from_asgi("/api/openapi.json", shared_app()).exclude(
    path="/api/v1/events"
)


@schema.parametrize()
@seed(20261122)
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: Any, world: World) -> None:
    headers = {"Authorization": f"Bearer {world.a.tokens['admin']}"}
    case.call_and_validate(
        headers=headers,
        timeout=REQUEST_TIMEOUT,
        checks=[not_a_server_error, response_schema_conformance],
    )
