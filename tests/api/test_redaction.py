"""Every planted secret shape is redacted wherever data leaves the database: export, logs,
errors, tracebacks, events, job and step reads; operators see raw values only where the
workspace allows it (issue 10)."""

from __future__ import annotations

import uuid

import pytest

from backend.redaction import REDACTED, redact_text
from tests.api.conftest import TestClient, World
from tests.api.test_events import read_sse
from tests.stepdefs import PLANTED_SECRETS

LEAKY = {"name": "leaky", "steps": [{"key": "leak", "action": "test.leaky"}]}
INPUT = {
    "note": " ; ".join(text for text, _ in PLANTED_SECRETS.values()),
    "headers": {"X-Api-Key": "hdr-key-5150", "Accept": "text/plain"},
    "client_secret": "cs-input-999",
}
HIDDEN = [hidden for _, hidden in PLANTED_SECRETS.values()] + ["hdr-key-5150", "cs-input-999"]


def _reads(client: TestClient, job_id: str) -> dict[str, str]:
    base = f"/jobs/{job_id}"
    paths = ["", "/steps", "/steps/leak/attempts", "/logs", "/timeline", "/results", "/export"]
    out = {}
    for path in paths:
        response = client.get(base + path)
        assert response.status_code == 200, (path, response.text[:300])
        out[path or "/"] = response.text
    out["list"] = client.get("/jobs").text
    out["executions"] = client.get("/workflows/leaky/executions").text
    return out


def _leaks(texts: dict[str, str]) -> list[tuple[str, str]]:
    return [(where, s) for where, text in texts.items() for s in HIDDEN if s in text]


@pytest.fixture
def leaked(world: World) -> tuple[str, str]:
    """A failed job and a completed one whose input, logs, errors, tracebacks, events and
    output carry every planted secret."""
    assert world.a.admin.post("/workflows", json=LEAKY).status_code == 201
    failed = world.create("leaky", INPUT)
    world.run(failed)
    done = world.create("leaky", {**INPUT, "succeed": True})
    world.run(done)
    return failed["id"], done["id"]


def test_every_planted_secret_is_redacted_for_viewers(
    world: World, leaked: tuple[str, str], live_server: str
) -> None:
    failed, done = leaked
    for job_id in leaked:
        texts = _reads(world.a.viewer, job_id)
        events = read_sse(
            live_server, world.a.tokens["viewer"], {"job_id": job_id, "until_terminal": "true"}
        )
        texts["events"] = repr(events)
        assert _leaks(texts) == []
        assert REDACTED in texts["/logs"] and REDACTED in texts["/export"]
    # the secrets were there to leak: the log lines, error and traceback carried them
    attempt = world.a.viewer.get(f"/jobs/{failed}/steps/leak/attempts").json()["attempts"][0]
    assert (
        attempt["error_message"].startswith("leaked: ") and "RuntimeError" in attempt["traceback"]
    )
    assert attempt["traceback"].count(REDACTED) >= len(PLANTED_SECRETS)
    lines = world.a.viewer.get(f"/jobs/{failed}/logs").json()["items"]
    assert len(lines) >= len(PLANTED_SECRETS) and all(
        REDACTED in line["message"] for line in lines if not line["message"].startswith("stdout")
    )
    output = world.a.viewer.get(f"/jobs/{done}/results").json()["items"][0]
    assert output["api_key"] == REDACTED and len(output["found"]) == len(PLANTED_SECRETS)
    job = world.a.viewer.get(f"/jobs/{failed}").json()
    assert job["input_payload"]["headers"] == {"X-Api-Key": REDACTED, "Accept": "text/plain"}


def test_operators_see_raw_values_only_where_the_workspace_allows(
    world: World, leaked: tuple[str, str]
) -> None:
    failed, _ = leaked
    assert _leaks(_reads(world.a.operator, failed)) == []  # default: redacted for everyone
    assert _leaks(_reads(world.a.admin, failed)) == []
    assert (
        world.a.operator.put(
            "/workspace/settings", json={"operators_see_secrets": True}
        ).status_code
        == 403
    )
    turned = world.a.admin.put("/workspace/settings", json={"operators_see_secrets": True})
    assert turned.status_code == 200 and turned.json() == {"operators_see_secrets": True}
    assert world.a.viewer.get("/workspace/settings").json() == {"operators_see_secrets": True}
    for client in (world.a.operator, world.a.admin):
        raw = _reads(client, failed)
        assert all(hidden in raw["/logs"] for hidden in HIDDEN[:-2])
        assert "cs-input-999" in raw["/"] and "hdr-key-5150" in raw["/"]
        assert _leaks({"export": raw["/export"]}) == []  # the export always leaves redacted
    assert _leaks(_reads(world.a.viewer, failed)) == []  # viewers never see them
    audit = world.a.admin.get("/audit", params={"action": "workspace.settings"}).json()
    assert audit["items"][0]["data"]["operators_see_secrets"] == {"before": False, "after": True}
    # the setting is per workspace: beta's operators still read redacted values
    assert world.b.admin.get("/workspace/settings").json() == {"operators_see_secrets": False}


def test_redaction_keeps_ordinary_text() -> None:
    for text in (
        "processed 1200 rows in 3.4 s (step extract, attempt 2)",
        "tokens_in=812 tokens_out=96 author: bob",
        "job 3f2c1d6e-8a9b-4c5d-9e0f-112233445566 finished",
        "see https://example.com/docs?page=2",
    ):
        assert redact_text(text) == text
    assert redact_text("x=" + str(uuid.uuid4())).startswith("x=")
