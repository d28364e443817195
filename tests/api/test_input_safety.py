"""Input never drives network or file access: JSON Schema `$ref`s resolve only inside the
document, at registration and at job creation (issue 10, SSRF)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from backend.db import connect
from backend.payload_limits import CLIPPED_MARKER, MAX_INPUT_BYTES, MAX_INPUT_DEPTH
from tests.api.conftest import World, error_of


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        body = b"<html><body>not a schema</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def trap() -> Iterator[str]:
    """A local HTTP server that answers HTML and records every request it receives."""
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _schema_with(ref: str) -> dict[str, Any]:
    return {"type": "object", "properties": {"x": {"$ref": ref}}}


def _workflow(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "input_schema": schema, "steps": [{"key": "s", "action": "test.noop"}]}


def test_external_refs_are_refused_at_registration(world: World, trap: str, tmp_path: Path) -> None:
    secret = tmp_path / "schema.json"
    secret.write_text('{"type": "string", "description": "file content"}')
    for ref in (f"{trap}/schema.json", secret.as_uri(), "other.json#/defs/x", "urn:x:y"):
        response = world.a.admin.post("/workflows", json=_workflow("remote", _schema_with(ref)))
        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["code"] == "invalid_definition"
        [problem] = error["details"]
        assert problem["loc"] == ["input_schema", "properties", "x", "$ref"]
        assert "outside the document" in problem["msg"] and ref in problem["msg"]
        assert "file content" not in response.text
    dialect = {
        "$schema": f"{trap}/meta",
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/x"}},
        "$defs": {"x": {"type": "string"}},
    }
    response = world.a.admin.post("/workflows", json=_workflow("dialect", dialect))
    assert response.status_code == 201  # an unknown dialect is read as 2020-12, never fetched
    job = world.a.operator.post("/jobs", json={"workflow": "dialect", "input_payload": {"x": 1}})
    assert job.status_code == 422 and error_of(job)["details"][0]["loc"] == ["input_payload", "x"]
    assert _Recorder.hits == []
    assert world.a.viewer.get("/workflows/remote").status_code == 404


def test_internal_refs_still_work(world: World) -> None:
    schema = {
        "$id": "https://example.invalid/root.json",
        "type": "object",
        "$defs": {
            "count": {"type": "integer", "minimum": 1},
            "named": {"$id": "named.json", "type": "string", "$anchor": "n"},
        },
        "properties": {
            "n": {"$ref": "#/$defs/count"},
            "name": {"$ref": "named.json"},
            "alias": {"$ref": "https://example.invalid/named.json#n"},
        },
    }
    assert world.a.admin.post("/workflows", json=_workflow("local", schema)).status_code == 201
    bad = world.a.operator.post(
        "/jobs", json={"workflow": "local", "input_payload": {"n": 0, "name": 1, "alias": 2}}
    )
    assert bad.status_code == 422
    locs = sorted(tuple(p["loc"]) for p in error_of(bad)["details"])
    assert locs == [
        ("input_payload", "alias"),
        ("input_payload", "n"),
        ("input_payload", "name"),
    ]
    good = {"n": 2, "name": "a", "alias": "b"}
    assert (
        world.a.operator.post(
            "/jobs", json={"workflow": "local", "input_payload": good}
        ).status_code
        == 201
    )


def test_a_stored_external_ref_is_never_fetched_at_job_creation(
    world: World, trap: str, tmp_path: Path
) -> None:
    """A version stored before the check (or written around it) refuses jobs precisely."""
    secret = tmp_path / "schema.json"
    secret.write_text('{"type": "string"}')
    for ref in (f"{trap}/schema.json", secret.as_uri()):
        with connect(autocommit=True) as conn:
            conn.execute(
                "UPDATE workflow_versions SET input_schema = %s WHERE workflow_id = %s",
                (Jsonb(_schema_with(ref)), world.a.workflows["echo3"]),
            )
        response = world.a.operator.post(
            "/jobs", json={"workflow": "echo3", "input_payload": {"x": "y"}}
        )
        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["details"][0]["loc"] == ["input_schema", "properties", "x", "$ref"]
        assert "outside the document" in error["details"][0]["msg"]
    assert _Recorder.hits == []
    assert world.a.viewer.get("/jobs").json()["total"] == 0


# --- nesting depth and size ----------------------------------------------------------------


def _deep_body(levels: int, workflow: str = "echo3", key: str | None = None) -> bytes:
    """A create body whose input_payload is `levels` objects deep (built as text: neither
    json.dumps nor a client could encode the deepest)."""
    payload = '{"a": ' * (levels - 1) + '{"a": "leaf"}' + "}" * (levels - 1)
    extra = f', "idempotency_key": "{key}"' if key else ""
    return f'{{"workflow": "{workflow}", "input_payload": {payload}{extra}}}'.encode()


def _post_raw(world: World, body: bytes) -> Any:
    return world.a.operator.post(
        "/jobs", content=body, headers={"Content-Type": "application/json"}
    )


def test_deep_input_is_refused_before_anything_is_stored(world: World) -> None:
    assert _post_raw(world, _deep_body(MAX_INPUT_DEPTH)).status_code == 201
    for levels in (MAX_INPUT_DEPTH + 1, 300, 990, 1500, 5000):
        for _ in range(2):  # a client retrying the refusal creates nothing either
            response = _post_raw(world, _deep_body(levels, key=f"deep-{levels}"))
            assert response.status_code == 422, (levels, response.text[:300])
            error = error_of(response)
            assert error["code"] == "invalid_input"
            [problem] = error["details"]
            assert problem["limit"] == MAX_INPUT_DEPTH, problem
            assert str(MAX_INPUT_DEPTH) in problem["msg"] and "deep" in problem["msg"]
            if levels < 900:  # what the JSON parser reads is located precisely; deeper: the body
                assert problem["loc"] == ["input_payload", *["a"] * MAX_INPUT_DEPTH]
            else:
                assert problem["loc"] in (["body"], ["input_payload", *["a"] * MAX_INPUT_DEPTH])
    assert world.a.viewer.get("/jobs").json()["total"] == 1


def test_deep_workflow_definitions_are_refused(world: World) -> None:
    deep: dict[str, Any] = {"v": 1}
    for _ in range(MAX_INPUT_DEPTH + 5):
        deep = {"d": deep}
    definition = {"name": "deep", "steps": [{"key": "s", "action": "test.noop", "params": deep}]}
    response = world.a.admin.post("/workflows", json=definition)
    assert response.status_code == 422
    [problem] = error_of(response)["details"]
    assert problem["loc"][:4] == ["definition", "steps", 0, "params"]
    assert problem["limit"] == MAX_INPUT_DEPTH
    assert world.a.viewer.get("/workflows/deep").status_code == 404


def test_oversized_input_is_refused_with_the_limit(world: World) -> None:
    big = {"blob": "x" * (MAX_INPUT_BYTES + 10)}
    response = world.a.operator.post("/jobs", json={"workflow": "echo3", "input_payload": big})
    assert response.status_code == 422
    [problem] = error_of(response)["details"]
    assert problem["loc"] == ["input_payload"] and problem["limit"] == MAX_INPUT_BYTES
    assert "KiB" in problem["msg"]
    assert world.a.viewer.get("/jobs").json()["total"] == 0


def test_reads_survive_a_deep_document_already_stored(world: World) -> None:
    """Jobs stored before the limit (and step outputs) may be deeper than any serializer
    reads: every read answers, with a marker where the value is cut."""
    job = world.create("echo3", {"x": 1})
    world.run(job)
    deep = json.loads('{"a": ' * 900 + '"leaf"' + "}" * 900)
    with connect(autocommit=True) as conn:
        conn.execute("UPDATE jobs SET input_payload = %s WHERE id = %s", (Jsonb(deep), job["id"]))
        conn.execute(
            "UPDATE job_steps SET output_data = %s, input_data = %s WHERE job_id = %s",
            (Jsonb(deep), Jsonb(deep), job["id"]),
        )
    viewer = world.a.viewer
    base = f"/jobs/{job['id']}"
    for path in ("", "/steps", "/results", "/timeline", "/status", "/export", "/logs"):
        response = viewer.get(base + path)
        assert response.status_code == 200, (path, response.text[:300])
    assert CLIPPED_MARKER in viewer.get(base).text
    assert CLIPPED_MARKER in viewer.get(base + "/export").text
    assert CLIPPED_MARKER in viewer.get(base + "/results").text
    assert viewer.get("/workflows/echo3/executions").status_code == 200
    assert viewer.get("/jobs").status_code == 200
    rerun = world.a.operator.post(f"{base}/rerun")
    assert rerun.status_code == 422, rerun.text[:300]  # its (cut) input is over the limit


def test_offline_validate_refuses_external_refs(trap: str, tmp_path: Path) -> None:
    """`jobmonitor workflows validate` runs the same check, with no server and no fetch."""
    from typer.testing import CliRunner

    from cli.main import app

    path = tmp_path / "remote.json"
    path.write_text(json.dumps(_workflow("remote", _schema_with(f"{trap}/s.json"))))
    result = CliRunner().invoke(
        app, ["workflows", "validate", str(path), "--no-check-actions", "--json"]
    )
    assert result.exit_code == 1, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["loc"] == ["input_schema", "properties", "x", "$ref"]
    assert "outside the document" in problem["msg"]
    assert _Recorder.hits == []
