"""What the job page shows of steps that wait for a person: the waiting steps (Execute, Review)
and a review's rows, as small dataclasses built from the API's models (pure functions)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from apiclient import models as t

WAITING = "waiting"
DRAFT_LABELS = {
    "none": "",
    "proposed": "Proposed",
    "in_review": "In review",
    "approved": "Approved",
    "rejected": "Rejected",
    "applied": "Applied",
}


@dataclass
class WaitingStep:
    key: str = ""
    name: str = ""
    run: str = ""  # manual | review


@dataclass
class ReviewRow:
    id: str = ""
    title: str = ""
    detail: str = ""  # the editable fields, compact
    decision: str = ""  # approved | rejected | "" (undecided)
    note: str = ""
    edited: bool = False


@dataclass
class ReviewInfo:
    step: str = ""
    name: str = ""
    status: str = ""  # open | submitted
    gate_waiting: bool = False
    total: int = 0
    approved: int = 0
    rejected: int = 0
    undecided: int = 0
    matched: int = 0
    editable: list[str] | None = None


def waiting_steps(steps: list[t.Step]) -> list[WaitingStep]:
    """The steps waiting for a person, in order."""
    return [
        WaitingStep(s.step_key, s.name, s.run)
        for s in steps
        if s.status == WAITING and s.run != "auto"
    ]


def has_gate(steps: list[t.Step]) -> bool:
    return any(s.run == "review" for s in steps)


def review_info(review: t.Review) -> ReviewInfo:
    c = review.counts
    return ReviewInfo(
        step=review.step,
        name=review.step_name,
        status=review.status,
        gate_waiting=review.status == "open" and review.step_status == WAITING,
        total=c.total,
        approved=c.approved,
        rejected=c.rejected,
        undecided=c.undecided,
        matched=review.matched,
        editable=sorted(review.editable),
    )


def review_rows(review: t.Review) -> list[ReviewRow]:
    fields = sorted(review.editable)
    return [
        ReviewRow(
            id=i.id,
            title=str(i.item.get("title") or i.item.get("label") or i.id),
            detail=editable_text(i.item, fields, indent=None),
            decision=i.decision or "",
            note=i.note or "",
            edited=i.item != i.original,
        )
        for i in review.items
    ]


def editable_text(item: dict[str, Any], fields: list[str], indent: int | None = 2) -> str:
    """The item's editable fields as JSON (what the inline editor edits)."""
    return json.dumps({f: item.get(f) for f in fields}, indent=indent, ensure_ascii=False)


def parse_edit(text: str, fields: list[str]) -> dict[str, Any]:
    """The inline editor's text as the fields to patch; ValueError with the message to show."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(value, dict) or not value:
        raise ValueError("Give an object of the editable fields")
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ValueError(f"Not editable: {', '.join(unknown)} (editable: {', '.join(fields)})")
    return value


def payload_errors(details: Any) -> Any:
    """An execute 422's details with `payload` paths read as the form's `input_payload` ones
    (so the New-job form's error mapping serves the Execute form too)."""
    if not isinstance(details, list):
        return details
    return [
        {**d, "loc": ["input_payload", *d["loc"][1:]]}
        if isinstance(d, dict) and d.get("loc", [None])[:1] == ["payload"]
        else d
        for d in details
    ]
