"""Search inside runs: payload paths, errors, failed step, cost and duration, the 4xx."""

from __future__ import annotations

from typing import Any

from backend.db import connect
from tests.api.conftest import World, error_of
from tests.api.investigate import finished


def _ids(world: World, search: str, **params: Any) -> set[str]:
    response = world.a.viewer.get("/jobs", params={"search": search, **params})
    assert response.status_code == 200, response.text
    return {j["id"] for j in response.json()["items"]}


def test_search_on_payloads_and_metadata(world: World) -> None:
    deep = finished(world, "echo3", {"mode": "fast", "records": 150, "opts": {"level": "deep"}})
    shallow = finished(world, "echo3", {"mode": "slow", "records": 50, "opts": {"level": "top"}})
    pending = world.create("echo3", {"mode": "fast", "records": "many"})
    with connect(autocommit=True) as conn:
        conn.execute(
            'UPDATE jobs SET metadata = \'{"operator": "cli"}\' WHERE id = %s', (deep["id"],)
        )
    assert _ids(world, "input.mode=fast") == {deep["id"], pending["id"]}
    assert _ids(world, "input.opts.level=deep") == {deep["id"]}
    assert _ids(world, "input.records>100") == {deep["id"]}
    assert _ids(world, "input.records<=50") == {shallow["id"]}
    assert _ids(world, "input.mode!=fast") == {shallow["id"]}
    assert _ids(world, "metadata.operator=cli") == {deep["id"]}
    # the same filters as plain query parameters
    plain = world.a.viewer.get("/jobs", params={"metadata.operator": "cli"}).json()["items"]
    assert {j["id"] for j in plain} == {deep["id"]}
    fast = world.a.viewer.get("/jobs", params={"input.mode": "fast"}).json()["items"]
    assert {j["id"] for j in fast} == {deep["id"], pending["id"]}
    assert _ids(world, "output.c exists") == {deep["id"], shallow["id"]}
    assert _ids(world, "output.c missing") == {pending["id"]}
    assert _ids(world, "input.opts.level~EE") == {deep["id"]}
    assert _ids(world, 'input.mode="fast" status=pending') == {pending["id"]}
    assert _ids(world, "input.mode=fast echo3") == {deep["id"], pending["id"]}
    assert _ids(world, "input.mode=fast nosuchworkflow") == set()
    page = world.a.viewer.get("/jobs", params={"search": "input.mode=fast"}).json()
    assert page["total"] == 2 and page["total_exact"] is True
    assert _ids(world, "input.mode=fast", status="completed") == {deep["id"]}
    world.create("echo3", {"mode": "fast"}, ws=world.b)  # another workspace never shows
    assert len(_ids(world, "input.mode=fast")) == 2


def test_search_on_errors_cost_and_duration(world: World) -> None:
    broken = finished(world, "broken", {})
    ok = finished(world, "echo3", {})
    assert _ids(world, 'error~"planned failure"') == {broken["id"]}
    assert _ids(world, "error_type=RuntimeError") == {broken["id"]}
    assert _ids(world, "error_type~runtime") == {broken["id"]}
    assert _ids(world, "error_type=ValueError") == set()
    assert _ids(world, "failed_step=boom") == {broken["id"]}
    assert _ids(world, "failed_step=a") == set()
    assert _ids(world, "cost>=0.75") == {ok["id"]}
    assert _ids(world, "cost<0.5") == {broken["id"]}
    assert _ids(world, "duration<1h") == {broken["id"], ok["id"]}
    assert _ids(world, "duration>2h") == set()


def test_bad_searches_are_precise_422(world: World) -> None:
    cases = {
        "colour=red": "unknown field 'colour'",
        "input=1": "name a field inside input",
        "input.a.=1": "name a field inside input",
        "cost>cheap": "cost is a number",
        "duration>soon": "duration is a number of seconds",
        "status=done": "status=NAME",
        "error>3": "error takes = or ~",
        'error~"open': "close the quote",
        "input.n>[1]": "compares with a number or a text",
        "input.n=": "a value is missing",
    }
    for search, reason in cases.items():
        response = world.a.viewer.get("/jobs", params={"search": search})
        assert response.status_code == 422, search
        error = error_of(response)
        assert error["details"][0]["loc"] == ["query", "search"], search
        assert reason in error["details"][0]["msg"], (search, error)
    both = world.a.viewer.get("/jobs", params={"search": "status=failed", "status": "running"})
    assert both.status_code == 422 and "not both" in error_of(both)["message"]
    many = " ".join(f"input.k{i}=1" for i in range(21))
    assert world.a.viewer.get("/jobs", params={"search": many}).status_code == 422
