"""A job's insides: steps, attempts, logs, timeline, status, results, export."""

from __future__ import annotations

import json
import uuid

from backend.db import connect
from backend.redaction import REDACTED, is_secret_key, redact, redact_text
from tests.api.conftest import World, error_of


def test_steps_in_job_matrix_shape(world: World) -> None:
    job = world.create("echo3")
    world.run(job)
    body = world.a.viewer.get(f"/jobs/{job['id']}/steps").json()
    assert body["job_id"] == job["id"]
    steps = body["steps"]
    assert [s["step_key"] for s in steps] == ["a", "b", "c"] and [
        s["step_index"] for s in steps
    ] == [1, 2, 3]
    workflow = uuid.UUID(job["workflow_id"])
    assert [s["step_id"] for s in steps] == [str(uuid.uuid5(workflow, k)) for k in "abc"]
    again = world.create("echo3")
    assert [
        s["step_id"] for s in world.a.viewer.get(f"/jobs/{again['id']}/steps").json()["steps"]
    ] == [s["step_id"] for s in steps], "a workflow step's id is the same in every job"
    first = steps[0]
    for name in (
        "id",
        "job_id",
        "step_id",
        "step_index",
        "status",
        "input_data",
        "output_data",
        "error_message",
        "attempt_number",
        "started_at",
        "completed_at",
        "name",
        "action",
        "params",
        "depends_on",
        "duration_seconds",
        "cost_usd",
        "progress",
        "error_type",
    ):
        assert name in first, name
    assert (
        first["status"] == "completed"
        and first["attempt_number"] == 1
        and first["retry_count"] == 0
        and first["cost_usd"] == 0.25
    )
    assert steps[1]["depends_on"] == ["a"]
    # what each step was given: its params and its upstream outputs
    assert first["input_data"] == {"params": first["params"], "upstream": {}}
    assert steps[1]["input_data"] == {
        "params": steps[1]["params"],
        "upstream": {"a": first["output_data"]},
    }
    assert world.a.viewer.get(f"/jobs/{again['id']}/steps").json()["steps"][0]["input_data"] is None


def test_attempts_show_the_retry_history(world: World) -> None:
    job = world.create("flaky")
    assert world.run(job)["status"] == "completed"
    body = world.a.viewer.get(f"/jobs/{job['id']}/steps/try/attempts").json()
    assert body["step_id"] == "try" and body["status"] == "completed"
    attempts = body["attempts"]
    assert [a["attempt_number"] for a in attempts] == [1, 2, 3]
    assert [a["status"] for a in attempts] == ["failed", "failed", "completed"]
    assert attempts[0]["error_type"] == "RuntimeError"
    assert attempts[0]["error_message"] == "planned failure 1/2"
    assert "Traceback" in attempts[0]["traceback"]
    assert attempts[0]["worker_name"] and attempts[0]["started_at"] and attempts[0]["finished_at"]
    assert world.a.viewer.get(f"/jobs/{job['id']}/steps/nope/attempts").status_code == 404
    missing = world.a.viewer.get(f"/jobs/{job['id']}/steps/nope/attempts")
    assert error_of(missing)["details"] == {"steps": ["try"]}


def test_attempt_costs_and_metrics(world: World) -> None:
    job = world.create("echo3")
    world.run(job)
    attempt = world.a.viewer.get(f"/jobs/{job['id']}/steps/b/attempts").json()["attempts"][0]
    assert attempt["cost_usd"] == 0.25
    assert attempt["costs"][0]["provider"] == "test" and attempt["costs"][0]["tokens_in"] == 10
    assert attempt["metrics"][0]["name"] == "upstream_count" and attempt["metrics"][0]["value"] == 1


def test_logs_with_cursor_and_filters(world: World) -> None:
    job = world.create("echo3")
    world.run(job)
    viewer = world.a.viewer
    everything = viewer.get(f"/jobs/{job['id']}/logs").json()
    messages = [line["message"] for line in everything["items"]]
    assert "echo a attempt 1" in messages and "stdout line from c" in messages
    assert everything["has_more"] is False
    first = viewer.get(f"/jobs/{job['id']}/logs", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["has_more"]
    rest = viewer.get(f"/jobs/{job['id']}/logs", params={"cursor": first["next_cursor"]}).json()
    assert [x["id"] for x in first["items"] + rest["items"]] == [
        x["id"] for x in everything["items"]
    ]
    tail = viewer.get(f"/jobs/{job['id']}/logs", params={"cursor": rest["next_cursor"]}).json()
    assert tail["items"] == [] and tail["next_cursor"] == rest["next_cursor"]
    only_b = viewer.get(f"/jobs/{job['id']}/logs", params={"step": "b"}).json()["items"]
    assert only_b and {x["step_id"] for x in only_b} == {"b"}
    assert {x["attempt_number"] for x in only_b} == {1}
    assert viewer.get(f"/jobs/{job['id']}/logs", params={"attempt": 2}).json()["items"] == []
    assert viewer.get(f"/jobs/{job['id']}/logs", params={"level": "error"}).json()["items"] == []
    assert viewer.get(f"/jobs/{job['id']}/logs", params={"level": "info"}).json()["items"]
    assert viewer.get(f"/jobs/{job['id']}/logs", params={"level": "loud"}).status_code == 422
    assert viewer.get(f"/jobs/{job['id']}/logs", params={"cursor": "abc"}).status_code == 422
    assert viewer.get(f"/jobs/{job['id']}/logs", params={"step": "zz"}).status_code == 404


def test_timeline_in_telemetry_shape(world: World) -> None:
    job = world.create("flaky")
    world.run(job)
    timeline = world.a.viewer.get(f"/jobs/{job['id']}/timeline").json()
    assert timeline["execution_id"] == job["id"] and timeline["workflow_id"] == job["workflow_id"]
    assert timeline["status"] == "completed" and timeline["step_count"] == 1
    assert timeline["completed_step_count"] == 1 and timeline["failed_step_count"] == 0
    assert timeline["skipped_step_count"] == 0 and timeline["total_duration_seconds"] > 0
    entry = timeline["step_timeline"][0]
    assert entry["step_id"] == str(uuid.uuid5(uuid.UUID(job["workflow_id"]), "try"))
    assert entry["step_key"] == "try" and entry["step_order"] == 1 and entry["retry_count"] == 2
    assert entry["output_summary"] == {"attempt": 3}
    assert entry["input_summary"] == {"params": {"fail_times": 2}, "upstream": {}}
    assert set(entry) == {
        "step_id",
        "step_key",
        "step_name",
        "step_order",
        "status",
        "started_at",
        "completed_at",
        "duration_seconds",
        "retry_count",
        "error_message",
        "input_summary",
        "output_summary",
    }


def test_status_in_status_contract_shape(world: World) -> None:
    job = world.create("echo3")
    body = world.a.viewer.get(f"/jobs/{job['id']}/status").json()
    assert body["success"] is True
    status = body["job"]
    assert (
        status["job_id"] == job["id"]
        and status["status"] == "pending"
        and status["progress"] == 0.0
    )
    assert [s["step"] for s in status["stepper"]] == ["a", "b", "c"]
    assert status["stepper"][0]["status"] == "queued"
    world.run(job)
    done = world.a.viewer.get(f"/jobs/{job['id']}/status").json()["job"]
    assert done["status"] == "completed" and done["progress"] == 1.0
    unknown = world.a.viewer.get(f"/jobs/{uuid.uuid4()}/status")
    assert unknown.status_code == 404  # no synthetic failed job


def test_results_paginate_a_list_output(world: World) -> None:
    job = world.create("listy")
    world.run(job)
    with connect() as conn:
        conn.execute(
            "UPDATE job_steps SET output_data = %s WHERE job_id = %s",
            (json.dumps([{"n": i} for i in range(12)]), job["id"]),
        )
        conn.commit()
    viewer = world.a.viewer
    page = viewer.get(
        f"/jobs/{job['id']}/results", params={"step": "items", "limit": 5, "offset": 10}
    ).json()
    assert page["success"] is True and page["step"] == "items"
    assert page["items"] == [{"n": 10}, {"n": 11}] and page["total"] == 12
    assert page["limit"] == 5 and page["offset"] == 10
    default_step = viewer.get(f"/jobs/{job['id']}/results").json()
    assert default_step["step"] == "items" and default_step["total"] == 12
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        assert viewer.get(f"/jobs/{job['id']}/results", params=params).status_code == 422
    assert viewer.get(f"/jobs/{job['id']}/results", params={"step": "nope"}).status_code == 404
    single = world.create("echo3")
    world.run(single)
    one = viewer.get(f"/jobs/{single['id']}/results", params={"step": "a"}).json()
    assert one["total"] == 1 and one["items"][0]["step"] == "a"


SECRETS = {
    "password": "hunter2-pw",
    "api_key": "sk-live-123456",
    "nested": {"Authorization": "Bearer abcdefghijkl", "clientSecret": "cs-999", "tokens_in": 5},
    "dsn": "postgresql://app:dbpass@db.internal/prod",
    "url": "https://alice:s3cr3t@example.com/path?access_token=tok-777&page=2",
    "list": [{"token": "t-1"}, "plain value"],
}


def test_export_redacts_planted_secrets(world: World) -> None:
    job = world.create("echo3", SECRETS)
    world.run(job)
    with connect() as conn:
        conn.execute(
            """
            INSERT INTO step_logs (job_id, step_id, attempt_id, level, message)
            SELECT job_id, step_id, id, 'info', %s FROM step_attempts WHERE job_id = %s LIMIT 1
            """,
            (
                f"connecting with password=pw-in-log to redis://:redispw@cache:6379 as {world.a.tokens['viewer']}",
                job["id"],
            ),
        )
        conn.commit()
    response = world.a.viewer.get(f"/jobs/{job['id']}/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="job-{job["id"]}.json"'
    text = response.text
    for secret in (
        "hunter2-pw",
        "sk-live-123456",
        "abcdefghijkl",
        "cs-999",
        "dbpass",
        "s3cr3t",
        "tok-777",
        "t-1",
        "pw-in-log",
        "redispw",
        world.a.tokens["viewer"],
    ):
        assert secret not in text, secret
    document = response.json()
    payload = document["job"]["input_payload"]
    assert payload["password"] == REDACTED and payload["nested"]["tokens_in"] == 5
    assert payload["list"][1] == "plain value"
    assert payload["url"].startswith(
        "https://[REDACTED]@example.com/path?access_token=[REDACTED]&page=2"
    )
    assert set(document) >= {"job", "steps", "attempts", "logs", "costs", "metrics", "events"}
    assert (
        len(document["steps"]) == 3
        and len(document["attempts"]) == 3
        and len(document["costs"]) == 3
    )
    assert document["events"][0]["type"] == "workflow_created"
    assert all("lease_token" not in a for a in document["attempts"])
    assert world.b.viewer.get(f"/jobs/{job['id']}/export").status_code == 404


def test_redaction_rules() -> None:
    assert is_secret_key("password") and is_secret_key("DB_PASSWORD") and is_secret_key("apiKey")
    assert (
        is_secret_key("x-auth-token")
        and is_secret_key("private_key")
        and is_secret_key("sentry_dsn")
    )
    assert (
        not is_secret_key("tokens_in")
        and not is_secret_key("author")
        and not is_secret_key("step_key")
    )
    assert redact({"a": {"secret": {"deep": 1}}, "b": None}) == {
        "a": {"secret": REDACTED},
        "b": None,
    }
    assert "abc.def.ghi" not in redact_text("Authorization: Bearer abc.def.ghi")
    assert "xyz12345" not in redact_text("curl -H 'Authorization: Bearer xyz12345'")
    assert redact_text("see https://example.com/a?b=1") == "see https://example.com/a?b=1"
    assert redact_text("mysql://u:p@h/db") == f"mysql://{REDACTED}@h/db"
