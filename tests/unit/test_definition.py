from __future__ import annotations

from typing import Any

import pytest

from backend.errors import InvalidDefinition
from backend.workflows import expressions
from backend.workflows.definition import (
    RetryPolicy,
    load_document,
    parse_definition,
)
from backend.workflows.input_schema import validate as validate_input

ACTIONS = {"a.run", "b.run"}


def _problems(document: Any) -> list[dict[str, Any]]:
    with pytest.raises(InvalidDefinition) as info:
        parse_definition(document, ACTIONS)
    return info.value.details


def test_valid_definition_orders_steps() -> None:
    d = parse_definition(
        {
            "name": "w",
            "steps": [
                {"key": "c", "action": "a.run", "depends_on": ["a", "b"]},
                {"key": "a", "action": "a.run"},
                {"key": "b", "action": "b.run", "depends_on": ["a"], "condition": "input.x > 1"},
            ],
        },
        ACTIONS,
    )
    assert [s.key for s in d.order()] == ["a", "b", "c"]


def test_every_problem_is_listed_with_its_path() -> None:
    problems = _problems(
        {
            "name": "w",
            "input_schema": {"type": "object", "properties": {"x": {"type": "nope"}}},
            "steps": [
                {"key": "a", "action": "missing.fn", "depends_on": ["c"]},
                {"key": "a", "action": "a.run"},
                {
                    "key": "b",
                    "action": "a.run",
                    "depends_on": ["ghost"],
                    "condition": "__import__('os')",
                },
                {"key": "c", "action": "a.run", "depends_on": ["d"]},
                {"key": "d", "action": "a.run", "depends_on": ["c"], "condition": "steps.b.x == 1"},
            ],
        }
    )
    by_loc = {tuple(p["loc"]): p["msg"] for p in problems}
    assert "unknown action 'missing.fn'" in by_loc[("steps", 0, "action")]
    assert "duplicate step key 'a'" in by_loc[("steps", 1, "key")]
    assert "unknown step 'ghost'" in by_loc[("steps", 2, "depends_on", 0)]
    assert "invalid condition" in by_loc[("steps", 2, "condition")]
    assert any("dependency cycle" in m for m in by_loc.values())
    assert "not upstream" in by_loc[("steps", 4, "condition")]
    assert any(loc[0] == "input_schema" for loc in by_loc)


def test_structural_and_graph_problems_in_one_answer() -> None:
    """Issue 19.4: a bad name, an unknown field, a duplicate key, a cycle and an unknown
    action are five problems, reported together."""
    problems = _problems(
        {
            "name": "bad name!",
            "owner": "me",
            "steps": [
                {"key": "a", "action": "a.run", "depends_on": ["b"]},
                {"key": "b", "action": "nope.run", "depends_on": ["a"]},
                {"key": "a", "action": "b.run"},
            ],
        }
    )
    by_loc = {tuple(p["loc"]): p["msg"] for p in problems}
    assert ("name",) in by_loc and ("owner",) in by_loc
    assert "duplicate step key 'a'" in by_loc[("steps", 2, "key")]
    assert "unknown action 'nope.run'" in by_loc[("steps", 1, "action")]
    assert any("dependency cycle: " in m for m in by_loc.values())
    assert len(problems) == 5, problems


def test_graph_checks_skip_what_did_not_parse() -> None:
    problems = _problems(
        {"name": "w", "steps": [{"key": 7, "action": "a.run"}, {"key": "b", "depends_on": "a"}]}
    )
    locs = [tuple(p["loc"]) for p in problems]
    assert ("steps", 0, "key") in locs and ("steps", 1, "action") in locs
    assert ("steps", 1, "depends_on") in locs and len(problems) == 3, problems


def test_schema_errors_have_paths() -> None:
    problems = _problems(
        {
            "name": "w",
            "steps": [{"key": "Bad Key", "action": "a.run", "retry": {"max_attempts": 0}}],
        }
    )
    locs = [tuple(p["loc"]) for p in problems]
    assert ("steps", 0, "key") in locs
    assert ("steps", 0, "retry", "max_attempts") in locs


def test_unknown_fields_refused() -> None:
    problems = _problems({"name": "w", "steps": [{"key": "a", "action": "a.run", "retries": 3}]})
    assert problems[0]["loc"] == ["steps", 0, "retries"]


def test_yaml_and_bad_documents() -> None:
    doc = load_document("name: w\nsteps:\n  - key: a\n    action: a.run\n", "w.yaml")
    assert parse_definition(doc, ACTIONS).name == "w"
    with pytest.raises(InvalidDefinition):
        load_document("{not json", "w.json")


def test_retry_backoff_is_capped() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_seconds=1, factor=3, max_backoff_seconds=5)
    assert [policy.delay(n) for n in (1, 2, 3)] == [1, 3, 5]


def test_validate_input_lists_each_field() -> None:
    schema = {
        "type": "object",
        "required": ["mode"],
        "properties": {"mode": {"enum": ["fast", "slow"]}, "n": {"type": "integer", "minimum": 1}},
    }
    problems = validate_input(schema, {"n": 0})
    locs = {tuple(p["loc"]) for p in problems}
    assert ("input_payload", "mode") in locs and ("input_payload", "n") in locs
    assert validate_input(schema, {"mode": "fast", "n": 2}) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('input.mode == "fast"', True),
        ("input.missing == null", True),
        ("steps.a.rows > 10 and not input.dry", True),
        ('input.mode in ["x", "fast"]', True),
        ("len(steps.a.items) == 2", True),
        ("steps.a.items[0] == 1", True),
        ("input.n * 2 >= 10", True),
        ('lower(input.name) == "bob"', True),
    ],
)
def test_expressions(source: str, expected: bool) -> None:
    data = {"mode": "fast", "dry": False, "n": 5, "name": "BOB"}
    steps = {"a": {"rows": 11, "items": [1, 2]}}
    assert expressions.evaluate(source, data, steps) is expected


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "input.__class__",
        "(lambda: 1)()",
        "open('x')",
        "input.x if 1 else 2",
        "x = 1",
        "",
    ],
)
def test_unsafe_expressions_refused(source: str) -> None:
    with pytest.raises(expressions.ExpressionError):
        expressions.parse(source)


def test_evaluation_errors_are_typed() -> None:
    with pytest.raises(expressions.EvaluationError):
        expressions.evaluate("input.a > 1", {"a": "text"}, {})


def test_defaults_fill_absent_properties_recursively() -> None:
    from backend.workflows.definition import apply_defaults

    schema = {
        "type": "object",
        "properties": {
            "mode": {"default": "standard"},
            "opts": {"type": "object", "default": {}, "properties": {"depth": {"default": 2}}},
            "given": {"default": 1},
        },
    }
    assert apply_defaults(schema, {"given": 5}) == {
        "given": 5,
        "mode": "standard",
        "opts": {"depth": 2},
    }
    assert apply_defaults(schema, "not an object") == "not an object"
