"""A workflow's input schema keeps the author's property order (the new-job form's order):
through the API, in the stored version, and after a version stored in jsonb's order is
registered again."""

from __future__ import annotations

import json
from typing import Any

from psycopg.types.json import Jsonb

from backend.db import connect
from tests.api.conftest import World

# jsonb would store these as: id, zeta, alpha, middle, b_long_name, a_longer_name_still
# (shorter keys first, then bytewise): an order nobody wrote
ORDER = ["zeta", "alpha", "id", "middle", "b_long_name", "a_longer_name_still"]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: {"type": "string", "title": name.upper()} for name in ORDER},
    "required": ["alpha"],
}
DEFINITION = {
    "name": "ordered",
    "input_schema": SCHEMA,
    "steps": [{"key": "s", "action": "test.noop"}],
}


def _stored_text(version_id: str) -> str:
    with connect(autocommit=True) as conn:
        row = conn.execute(
            "SELECT input_schema::text AS t FROM workflow_versions WHERE id = %s", (version_id,)
        ).fetchone()
    assert row is not None
    return str(row["t"])


def test_the_schema_comes_back_in_the_order_written(world: World) -> None:
    created = world.a.admin.post("/workflows", json=DEFINITION)
    assert created.status_code == 201, created.text
    read = world.a.viewer.get("/workflows/ordered").json()
    assert list(read["input_schema"]["properties"]) == ORDER
    assert list(read["input_schema"]) == ["type", "properties", "required"]
    assert list(read["definition"]["input_schema"]["properties"]) == ORDER
    # the raw response text, not only the parsed dict: JSON objects have an order on the wire
    raw = world.a.viewer.get("/workflows/ordered").text
    positions = [raw.index(f'"{name}":{{') for name in ORDER]
    assert positions == sorted(positions)
    assert list(json.loads(_stored_text(read["version_id"]))["properties"]) == ORDER


def test_registering_again_restores_the_order_of_a_jsonb_era_version(world: World) -> None:
    created = world.a.admin.post("/workflows", json=DEFINITION).json()
    version_id = world.a.viewer.get("/workflows/ordered").json()["version_id"]
    with connect(autocommit=True) as conn:  # as stored before 0010: jsonb's key order
        conn.execute(
            "UPDATE workflow_versions SET input_schema = %s::jsonb::json WHERE id = %s",
            (Jsonb(SCHEMA), version_id),
        )
    scrambled = world.a.viewer.get("/workflows/ordered").json()["input_schema"]["properties"]
    assert list(scrambled) != ORDER  # the test would prove nothing if jsonb kept the order
    again = world.a.admin.post("/workflows", json=DEFINITION)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["version"] == created["version"]
    read = world.a.viewer.get("/workflows/ordered").json()
    assert read["version_id"] == version_id
    assert list(read["input_schema"]["properties"]) == ORDER


def test_jobs_validate_against_the_ordered_schema(world: World) -> None:
    world.a.admin.post("/workflows", json=DEFINITION)
    ok = world.a.operator.post(
        "/jobs", json={"workflow": "ordered", "input_payload": {"alpha": "x"}}
    )
    assert ok.status_code == 201, ok.text
    missing = world.a.operator.post("/jobs", json={"workflow": "ordered", "input_payload": {}})
    assert missing.status_code == 422


STEP_SCHEMA = {"type": "object", "properties": {n: {"type": "integer"} for n in reversed(ORDER)}}
HUMAN = {
    "name": "ordered-human",
    "steps": [
        {"key": "first", "action": "test.noop"},
        {
            "key": "ask",
            "action": "test.payload",
            "run": "manual",
            "depends_on": ["first"],
            "input_schema": STEP_SCHEMA,
        },
    ],
}


def test_a_manual_steps_schema_keeps_its_order_in_the_definition(world: World) -> None:
    """The Execute form of a manual step reads the definition the API returns."""
    assert world.a.admin.post("/workflows", json=HUMAN).status_code == 201
    read = world.a.viewer.get("/workflows/ordered-human").json()
    ask = next(s for s in read["definition"]["steps"] if s["key"] == "ask")
    assert list(ask["input_schema"]["properties"]) == list(reversed(ORDER))
    with connect(autocommit=True) as conn:  # a version stored before 0010
        conn.execute(
            "UPDATE workflow_versions SET document = definition::json WHERE id = %s",
            (read["version_id"],),
        )
    stale = world.a.viewer.get("/workflows/ordered-human").json()["definition"]["steps"][1]
    assert list(stale["input_schema"]["properties"]) != list(reversed(ORDER))
    assert world.a.admin.post("/workflows", json=HUMAN).status_code == 200
    again = world.a.viewer.get("/workflows/ordered-human").json()["definition"]["steps"][1]
    assert list(again["input_schema"]["properties"]) == list(reversed(ORDER))
