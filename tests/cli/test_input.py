"""Pure parts of the CLI: --set parsing, input merging, paths, exit codes, --since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer

from apiclient.base import normalize_url
from apiclient.errors import Conflict, NotFound, Unavailable, Unreachable, ValidationFailed
from backend.jobs.statuses import JOB_TERMINAL, AttemptStatus, JobStatus, StepStatus
from cli import output
from cli.commands.audit import parse_since
from cli.commands.prune import Finished
from cli.commands.run import InputError, apply_sets, load_input, parse_value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100", 100),
        ("1.5", 1.5),
        ("true", True),
        ("null", None),
        ('["a", 2]', ["a", 2]),
        ('{"k": 1}', {"k": 1}),
        ('"007"', "007"),
        ("fast", "fast"),
        ("", ""),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("a=b", "a=b"),
    ],
)
def test_set_values_are_json_when_they_parse(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_sets_merge_over_the_input_and_nest_dotted_keys() -> None:
    base = {"records": 1, "options": {"mode": "slow", "keep": True}}
    merged = apply_sets(
        base, ["records=100", "options.mode=fast", "a.b.c=[1,2]", "records=200", "note=x=y"]
    )
    assert merged == {
        "records": 200,
        "options": {"mode": "fast", "keep": True},
        "a": {"b": {"c": [1, 2]}},
        "note": "x=y",
    }


@pytest.mark.parametrize("item", ["records", "=5", "a..b=1", ".a=1", "a.=1"])
def test_bad_sets_name_the_expected_form(item: str) -> None:
    with pytest.raises(InputError, match="KEY=VALUE"):
        apply_sets({}, [item])


def test_a_set_through_a_value_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InputError, match="records is 5, not an object"):
        apply_sets({"records": 5}, ["records.max=1"])


def test_input_comes_from_one_place_and_is_an_object(tmp_path: Path) -> None:
    file = tmp_path / "in.json"
    file.write_text('{"records": 3}')
    assert load_input(None, file) == {"records": 3}
    assert load_input('{"a": 1}', None) == {"a": 1}
    assert load_input(None, None) == {}
    (tmp_path / "in.yaml").write_text("records: 4\nmode: fast\n")
    assert load_input(None, tmp_path / "in.yaml") == {"records": 4, "mode": "fast"}
    with pytest.raises(InputError, match="cannot be used together"):
        load_input("{}", file)
    with pytest.raises(InputError, match=r"not valid JSON: .* line 1 column"):
        load_input("{records: 1}", None)
    with pytest.raises(InputError, match="must be a JSON object"):
        load_input("[1, 2]", None)
    with pytest.raises(InputError, match="cannot read"):
        load_input(None, tmp_path / "missing.json")


def test_paths_and_exit_codes() -> None:
    assert output.path_text(["steps", 2, "depends_on", 0]) == "steps[2].depends_on[0]"
    assert output.path_text([]) == "(document)"
    assert output.exit_code(Unreachable("x", status=0)) == output.UNREACHABLE
    assert output.exit_code(Unavailable("db down", status=503)) == output.UNREACHABLE
    assert output.exit_code(NotFound("x")) == output.USAGE
    assert output.exit_code(Conflict("x")) == output.USAGE
    assert output.exit_code(ValidationFailed("x")) == output.USAGE
    assert output.details_lines({"suggestions": ["echo3"]}) == ["did you mean: echo3?"]
    assert output.details_lines([{"loc": ["input_payload", "count"], "msg": "required"}]) == [
        "input_payload.count: required"
    ]


@pytest.mark.parametrize("status", [*JobStatus, *StepStatus, *AttemptStatus])
def test_every_status_has_a_style(status: str) -> None:
    assert output.STATUS_STYLES[status]


def test_prune_takes_exactly_the_terminal_statuses() -> None:
    assert set(Finished) == JOB_TERMINAL


def test_urls_and_since() -> None:
    assert normalize_url("localhost:3000/api/v1/") == "http://localhost:3000"
    assert normalize_url("https://jobs.example/api") == "https://jobs.example"
    now = datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("2w", now) == now - timedelta(weeks=2)
    assert parse_since("2026-01-30T08:00+00:00") == datetime(2026, 1, 30, 8, tzinfo=UTC)
    with pytest.raises(typer.Exit):
        parse_since("yesterday")
