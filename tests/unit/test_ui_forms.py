"""The CreateJobDialog's form: schema -> fields, texts -> typed payload with inline errors."""

from __future__ import annotations

from typing import Any

from jobmonitor import forms

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["records", "mode"],
    "properties": {
        "records": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "default": 10,
            "description": "How many",
        },
        "ratio": {"type": "number"},
        "label": {"type": "string", "title": "Run label"},
        "mode": {"type": "string", "enum": ["fast", "standard", "thorough"], "default": "standard"},
        "level": {"enum": [1, 2, 3]},
        "dry_run": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "options": {"type": "object"},
        "maybe": {"type": ["null", "integer"]},
    },
}


def fields() -> list[forms.FormField]:
    return forms.form_fields(SCHEMA)


def test_fields_follow_the_schema() -> None:
    by_name = {f.name: f for f in fields()}
    assert list(by_name) == list(SCHEMA["properties"])
    assert {n: f.kind for n, f in by_name.items()} == {
        "records": "integer",
        "ratio": "number",
        "label": "string",
        "mode": "enum",
        "level": "enum",
        "dry_run": "boolean",
        "tags": "string_list",
        "options": "json",
        "maybe": "integer",
    }
    assert (
        by_name["records"].required and by_name["mode"].required and not by_name["label"].required
    )
    assert by_name["records"].default == "10" and by_name["records"].description == "How many"
    assert by_name["label"].label == "Run label" and by_name["dry_run"].label == "Dry run"
    assert by_name["mode"].options == ["fast", "standard", "thorough"]
    assert by_name["level"].options == ["1", "2", "3"] and by_name["level"].options_json


def test_defaults_make_a_valid_payload() -> None:
    fs = fields()
    payload, errors = forms.build_payload(fs, forms.initial_values(fs))
    assert errors == {}
    assert payload == {"records": 10, "mode": "standard", "dry_run": False}


def test_values_are_coerced_to_their_types() -> None:
    fs = fields()
    values = forms.initial_values(fs) | {
        "ratio": "0.5",
        "label": "  spaced ",
        "level": "2",
        "dry_run": "true",
        "tags": "a\nb, c\n\n",
        "options": '{"x": [1]}',
        "maybe": "-3",
    }
    payload, errors = forms.build_payload(fs, values)
    assert errors == {}
    assert payload == {
        "records": 10,
        "ratio": 0.5,
        "label": "  spaced ",
        "mode": "standard",
        "level": 2,
        "dry_run": True,
        "tags": ["a", "b", "c"],
        "options": {"x": [1]},
        "maybe": -3,
    }


def test_invalid_values_get_inline_errors() -> None:
    fs = fields()
    values = forms.initial_values(fs) | {
        "records": "abc",
        "ratio": "1e999",
        "mode": "",
        "options": "{oops",
        "maybe": "1.5",
    }
    _, errors = forms.build_payload(fs, values)
    assert errors == {
        "records": "Enter a whole number",
        "ratio": "Enter a finite number",
        "mode": "Required",
        "options": "Not valid JSON: Expecting property name enclosed in double quotes",
        "maybe": "Enter a whole number",
    }


def test_bounds_are_checked() -> None:
    fs = fields()
    base = forms.initial_values(fs)
    assert forms.build_payload(fs, base | {"records": "0"})[1] == {"records": "Must be at least 1"}
    assert forms.build_payload(fs, base | {"records": "1001"})[1] == {
        "records": "Must be at most 1000"
    }
    assert forms.build_payload(fs, base | {"mode": "turbo"})[1] == {
        "mode": "Choose one of: fast, standard, thorough"
    }


def test_a_payload_fills_the_form_back() -> None:
    fs = fields()
    payload = {
        "records": 7,
        "mode": "fast",
        "tags": ["x", "y"],
        "dry_run": True,
        "options": {"a": 1},
        "level": 3,
    }
    values = forms.initial_values(fs, payload)
    assert values["records"] == "7" and values["tags"] == "x\ny" and values["dry_run"] == "true"
    rebuilt, errors = forms.build_payload(fs, values)
    assert errors == {}
    assert rebuilt == payload


def test_api_details_map_to_fields() -> None:
    details = [
        {"loc": ["input_payload", "records"], "msg": "-1 is less than the minimum of 1"},
        {"loc": ["input_payload"], "msg": "'mode' is a required property"},
        {"loc": ["idempotency_key"], "msg": "too long"},
    ]
    by_field, other = forms.field_errors(details, fields())
    assert by_field == {"records": "-1 is less than the minimum of 1"}
    assert other == ["'mode' is a required property", "idempotency_key: too long"]
    assert forms.field_errors(None, fields()) == ({}, [])


def test_json_tab_parsing() -> None:
    assert forms.parse_json_payload('{"a": 1}') == {"a": 1}
    assert forms.parse_json_payload("") == {}
    for bad, message in (("[1]", "The input must be a JSON object"), ("{", "Not valid JSON")):
        try:
            forms.parse_json_payload(bad)
        except ValueError as exc:
            assert str(exc).startswith(message)
        else:
            raise AssertionError(bad)


def test_schema_without_properties_has_no_fields() -> None:
    assert forms.form_fields({"type": "object"}) == []
