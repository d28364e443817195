"""The job page's human-step view models: waiting steps, review rows, the inline editor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apiclient import models as t
from jobmonitor import forms
from jobmonitor.review_view import (
    editable_text,
    parse_edit,
    payload_errors,
    review_info,
    review_rows,
    waiting_steps,
)


def step(key: str, status: str, run: str = "auto") -> t.Step:
    return t.Step(
        id=key,
        job_id="j",
        step_id=f"id-of-{key}",  # the workflow step's id, not its key
        step_key=key,
        step_index=1,
        name=key.title(),
        status=status,
        run=run,
    )


def test_only_steps_waiting_for_a_person_are_listed() -> None:
    steps = [step("a", "completed"), step("m", "waiting", "manual"), step("g", "pending", "review")]
    assert [(w.key, w.run) for w in waiting_steps(steps)] == [("m", "manual")]


def review(**fields: Any) -> t.Review:
    items = [
        {"id": "p1", "item": {"title": "One", "ontology": {"tags": ["x"]}, "score": 1}},
        {
            "id": "p2",
            "item": {"title": "Two", "ontology": {"tags": ["new"]}},
            "original": {"title": "Two", "ontology": {"tags": ["old"]}},
            "decision": "approved",
        },
    ]
    items[0]["original"] = items[0]["item"]
    body = {
        "job_id": "j",
        "step": "review",
        "step_name": "Review",
        "step_status": "waiting",
        "status": "open",
        "editable": {"ontology": {"type": "object"}},
        "counts": {"total": 2, "approved": 1, "rejected": 0, "undecided": 1},
        "items": items,
        "matched": 2,
        **fields,
    }
    return t.Review.model_validate(body)


def test_review_rows_show_decisions_edits_and_only_editable_fields() -> None:
    rows = review_rows(review())
    assert [(r.id, r.title, r.decision, r.edited) for r in rows] == [
        ("p1", "One", "", False),
        ("p2", "Two", "approved", True),
    ]
    assert rows[0].detail == '{"ontology": {"tags": ["x"]}}'
    info = review_info(review())
    assert info.gate_waiting and info.undecided == 1 and info.editable == ["ontology"]
    assert not review_info(review(status="submitted")).gate_waiting


def test_the_inline_editor_accepts_only_editable_fields() -> None:
    text = editable_text({"ontology": {"tags": ["a"]}, "score": 3}, ["ontology"])
    assert parse_edit(text, ["ontology"]) == {"ontology": {"tags": ["a"]}}
    for bad, message in (
        ("{", "Not valid JSON"),
        ("[]", "object"),
        ('{"score": 1}', "Not editable: score"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_edit(bad, ["ontology"])


def test_execute_errors_map_onto_the_form_fields() -> None:
    fields = forms.form_fields({"type": "object", "properties": {"limit": {"type": "integer"}}})
    details = [{"loc": ["payload", "limit"], "msg": "0 is less than 1"}, {"loc": [], "msg": "x"}]
    by_field, other = forms.field_errors(payload_errors(details), fields)
    assert by_field == {"limit": "0 is less than 1"} and other == ["x"]


def test_the_list_chip_and_the_draft_label() -> None:
    from jobmonitor.viewmodels import job_info, job_row

    base = {"id": "j1", "workflow_id": "w", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
    waiting = t.Job.model_validate(
        {**base, "status": "running", "waiting_for": "review", "draft_state": "in_review"}
    )
    assert job_row(waiting).waiting == "Waiting for review"
    assert job_info(waiting).draft == "In review"
    manual = t.Job.model_validate({**base, "status": "pending", "waiting_for": "manual"})
    assert job_row(manual).waiting == "Waiting for input" and job_info(manual).draft == ""
    ended = t.Job.model_validate({**base, "status": "cancelled", "waiting_for": "review"})
    assert job_row(ended).waiting == ""
