"""Compare two runs: input diff, steps side by side, the first divergence."""

from __future__ import annotations

from tests.api.conftest import World, error_of
from tests.api.investigate import finished, register_pipe


def test_compare_finds_the_first_divergence(world: World) -> None:
    register_pipe(world)
    a = finished(world, "pipe", {"n": 1, "mode": "fast", "api_token": "hunter2"})
    b = finished(world, "pipe", {"n": 2, "mode": "fast", "api_token": "other", "extra": True})
    response = world.a.viewer.get(f"/jobs/{a['id']}/compare/{b['id']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["same_version"] is True
    changes = {d["path"]: d for d in body["input_diff"]}
    assert changes["$.n"] == {"path": "$.n", "change": "changed", "a": 1, "b": 2}
    assert changes["$.extra"]["change"] == "added"
    assert "$.mode" not in changes and "$.api_token" not in changes  # both redacted alike
    assert "hunter2" not in response.text
    steps = {s["step_key"]: s for s in body["steps"]}
    assert [s["step_key"] for s in body["steps"]] == ["extract", "transform", "load"]
    assert steps["extract"]["same"] and steps["extract"]["output_equal"]
    assert steps["transform"]["output_diff"] == [
        {"path": "$.n", "change": "changed", "a": 1, "b": 2}
    ]
    assert steps["extract"]["a"]["cost_usd"] == 0.25 and steps["extract"]["cost_delta"] == 0
    assert steps["extract"]["metrics"][0]["name"] == "upstream_count"
    assert steps["extract"]["metrics"][0]["delta"] == 0
    assert isinstance(steps["load"]["duration_delta"], float)
    assert body["first_divergence"] == "transform"
    assert (
        body["summary"] == "outputs equal up to `extract`; differ from `transform` (outputs differ)"
    )


def test_compare_across_versions_and_statuses(world: World) -> None:
    register_pipe(world)
    a = finished(world, "pipe", {"n": 1})
    newer = {
        "name": "pipe",
        "steps": [
            {"key": "extract", "action": "test.echo"},
            {"key": "transform", "action": "test.scale", "depends_on": ["extract"]},
            {"key": "publish", "action": "test.noop", "depends_on": ["transform"]},
        ],
    }
    assert world.a.admin.post("/workflows", json=newer).status_code in (200, 201)
    b = finished(world, "pipe", {"n": 1})
    body = world.a.viewer.get(f"/jobs/{a['id']}/compare/{b['id']}").json()
    assert body["same_version"] is False
    presence = {s["step_key"]: s["presence"] for s in body["steps"]}
    assert presence == {
        "extract": "both",
        "transform": "both",
        "load": "only_a",
        "publish": "only_b",
    }
    assert body["first_divergence"] == "load"
    assert body["summary"].startswith("outputs equal up to `transform`; differ from `load`")
    broken = finished(world, "broken", {})
    ok = finished(world, "echo3", {})
    cross = world.a.viewer.get(f"/jobs/{ok['id']}/compare/{broken['id']}").json()
    assert cross["first_divergence"] == "a"
    assert cross["summary"].startswith("runs differ from the first step `a` (only in A)")


def test_compare_is_scoped_and_truncates(world: World) -> None:
    a = finished(world, "echo3", {"big": "x" * 5000})
    b = finished(world, "echo3", {"big": "y" * 5000})
    body = world.a.viewer.get(f"/jobs/{a['id']}/compare/{b['id']}").json()
    big = body["input_diff"][0]
    assert big["a"]["truncated"] is True and big["a"]["chars"] == 5002
    assert len(big["a"]["preview"]) == 300
    other = world.create("echo3", ws=world.b)
    hidden = world.a.viewer.get(f"/jobs/{a['id']}/compare/{other['id']}")
    assert hidden.status_code == 404 and error_of(hidden)["code"] == "not_found"
    assert world.anonymous.get(f"/jobs/{a['id']}/compare/{b['id']}").status_code == 401
    assert world.a.viewer.get(f"/jobs/{a['id']}/compare/not-a-uuid").status_code == 422
