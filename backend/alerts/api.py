"""Alert rules: which events alert, for which workflows, on which channels, with a quiet
period. Admins change them."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi import status as http

from backend.alerts import queries, service
from backend.alerts.rows import RuleRow
from backend.alerts.schemas import Rule, RuleCreate, RuleList
from backend.audit import record_audit
from backend.http.deps import Admin, Viewer, transaction
from backend.http.responses import errors

router = APIRouter(prefix="/alert-rules", tags=["notifications"])

NOT_FOUND = "No such alert rule (or workflow) in this workspace"
ERRORS = errors(not_found=NOT_FOUND)


@router.post(
    "",
    status_code=http.HTTP_201_CREATED,
    response_model=Rule,
    responses=errors(
        not_found=NOT_FOUND,
        conflict="A rule of this name exists",
        invalid="A field is invalid (a kind's params, unknown channels)",
    ),
)
def create_rule(body: RuleCreate, principal: Admin) -> RuleRow:
    with transaction() as conn:
        row = service.create_rule(conn, principal.workspace_id, body)
        data = {"name": row.name, "kind": row.kind, "params": row.params}
        record_audit(conn, principal, "alert_rule.create", "alert_rule", row.id, None, None, data)
    return row


@router.get("", response_model=RuleList, responses=ERRORS)
def list_rules(principal: Viewer) -> dict[str, Any]:
    with transaction() as conn:
        return {"items": queries.list_rules(conn, principal.workspace_id)}


@router.get("/{rule_id}", response_model=Rule, responses=ERRORS)
def get_rule(rule_id: uuid.UUID, principal: Viewer) -> RuleRow:
    with transaction() as conn:
        return queries.get_rule(conn, principal.workspace_id, rule_id)


@router.delete("/{rule_id}", status_code=http.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_rule(rule_id: uuid.UUID, principal: Admin) -> Response:
    with transaction() as conn:
        row = service.delete_rule(conn, principal.workspace_id, rule_id)
        data = {"name": row.name, "kind": row.kind}
        record_audit(conn, principal, "alert_rule.delete", "alert_rule", row.id, None, None, data)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
