"""The new-job dialog's Form -> JSON draft (no value dropped) and how a page names a failed
load (a malformed id in the URL is "not found", not a network error)."""

from __future__ import annotations

import json

from apiclient.errors import NotFound, Unavailable, ValidationFailed, error_from_response
from jobmonitor import forms
from jobmonitor.state import error_kind, malformed_id

SCHEMA = {
    "type": "object",
    "required": ["records"],
    "properties": {
        "records": {"type": "integer", "minimum": 1},
        "ratio": {"type": "number"},
        "mode": {"enum": ["a", "b"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "options": {"type": "object"},
        "label": {"type": "string"},
    },
}


def test_the_json_draft_keeps_values_that_do_not_parse_as_typed() -> None:
    fields = forms.form_fields(SCHEMA)
    values = {"records": "12x", "ratio": "0.5", "mode": "", "tags": "x\ny", "options": "{oops"}
    payload, invalid = forms.draft_payload(fields, values)
    assert payload == {"records": "12x", "ratio": 0.5, "tags": ["x", "y"], "options": "{oops"}
    assert set(invalid) == {"records", "options"}
    note = forms.kept_as_typed(invalid, fields)
    assert "Records: Enter a whole number" in note and "Options: Not valid JSON" in note
    assert forms.kept_as_typed({}, fields) == ""
    # back to the form: the texts come back as typed, not as JSON strings
    back = forms.initial_values(fields, json.loads(forms.json_text(payload)))
    assert back["records"] == "12x" and back["tags"] == "x\ny" and back["ratio"] == "0.5"


def test_build_payload_still_refuses_what_the_draft_keeps() -> None:
    fields = forms.form_fields(SCHEMA)
    payload, errors = forms.build_payload(fields, {"records": "12x"})
    assert "records" not in payload and errors["records"] == "Enter a whole number"


def _problem(status: int, loc: list[str]) -> bytes:
    body = {
        "error": {"code": "invalid_input", "message": "m", "details": [{"loc": loc, "msg": "x"}]}
    }
    return json.dumps(body).encode()


def test_a_malformed_id_in_the_path_is_not_found() -> None:
    bad_id = error_from_response(422, _problem(422, ["path", "job_id"]))
    assert isinstance(bad_id, ValidationFailed) and malformed_id(bad_id)
    assert error_kind(bad_id) == "not_found"
    bad_query = error_from_response(422, _problem(422, ["query", "limit"]))
    assert not malformed_id(bad_query) and error_kind(bad_query) == "error"
    assert error_kind(NotFound("gone")) == "not_found"
    assert error_kind(Unavailable("down")) == "network"
