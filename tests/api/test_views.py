"""Saved views: per person or shared with the workspace, validated, scoped."""

from __future__ import annotations

from tests.api.conftest import World, error_of


def test_saved_views_per_person_and_workspace(world: World) -> None:
    viewer, op = world.a.viewer, world.a.operator
    mine = viewer.post("/views", json={"name": "fast ones", "query": "input.mode=fast"})
    assert mine.status_code == 201 and mine.json()["owner"] == "viewer-token"
    shared = op.post("/views", json={"name": "failed", "query": "status=failed", "shared": True})
    assert shared.status_code == 201 and shared.json()["owner"] is None
    assert [v["name"] for v in viewer.get("/views").json()["items"]] == ["failed", "fast ones"]
    assert [v["name"] for v in op.get("/views").json()["items"]] == ["failed"]
    assert world.b.admin.get("/views").json()["items"] == []
    dup = viewer.post("/views", json={"name": "fast ones", "query": "input.mode=slow"})
    assert dup.status_code == 409
    bad = viewer.post("/views", json={"name": "x", "query": "colour=red"})
    assert bad.status_code == 422 and error_of(bad)["details"][0]["loc"] == ["query", "search"]
    assert (
        viewer.post("/views", json={"name": "s", "query": "cost>1", "shared": True}).status_code
        == 403
    )
    assert viewer.delete(f"/views/{shared.json()['id']}").status_code == 404
    assert op.delete(f"/views/{mine.json()['id']}").status_code == 404
    assert world.b.admin.delete(f"/views/{shared.json()['id']}").status_code == 404
    assert viewer.delete(f"/views/{mine.json()['id']}").status_code == 204
    assert op.delete(f"/views/{shared.json()['id']}").status_code == 204
    assert viewer.get("/views").json()["items"] == []
