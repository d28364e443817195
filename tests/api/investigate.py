"""Shared by the investigate tests (compare, search, re-run from a step, failure inbox): a
three-step workflow whose middle step's output depends on the input."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import World

PIPE = {
    "name": "pipe",
    "input_schema": {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 0}, "mode": {"type": "string"}},
    },
    "steps": [
        {"key": "extract", "action": "test.echo"},
        {"key": "transform", "action": "test.scale", "depends_on": ["extract"]},
        {"key": "load", "action": "test.echo", "depends_on": ["transform"]},
    ],
}


def register_pipe(world: World) -> None:
    response = world.a.admin.post("/workflows", json=PIPE)
    assert response.status_code in (200, 201), response.text


def finished(world: World, workflow: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A job created through the API and run to its end on real workers, as the API shows it."""
    job = world.create(workflow, payload)
    world.run(job)
    return world.a.viewer.get(f"/jobs/{job['id']}").json()  # type: ignore[no-any-return]
