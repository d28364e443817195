"""The async, typed client of the REST API that every page state of the web monitor uses (the
UI never reads the database). One method per route; answers are pydantic models
(`apiclient.models`), and an error response becomes one typed exception (`apiclient.errors`).
The CLI's blocking twin is `apiclient.sync`; both build on `apiclient.base`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from apiclient import models as t
from apiclient import ops_models as ops
from apiclient.base import Connection, check, query, stream_headers
from apiclient.errors import error_from_response
from apiclient.sse import SSEParser

M = TypeVar("M", bound=BaseModel)
TIMEOUT = httpx.Timeout(15.0, connect=3.0)


def default_base_url() -> str:
    """`JOBMONITOR_URL`, else this process's own Reflex backend (the API runs in it)."""
    explicit = os.environ.get("JOBMONITOR_URL")
    if explicit:
        return explicit.rstrip("/")
    port = os.environ.get("REFLEX_BACKEND_PORT") or "8000"
    return f"http://127.0.0.1:{port}"


class ApiClient(Connection):
    """An authenticated client; cheap to create (one per handler call)."""

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url or default_base_url(), token)
        self._transport = transport

    def _http(self, timeout: httpx.Timeout = TIMEOUT) -> httpx.AsyncClient:
        return httpx.AsyncClient(**self._http_options(timeout), transport=self._transport)

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        kwargs["params"] = query(kwargs.get("params"))
        try:
            async with self._http() as http:
                response = await http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return check(response)

    async def _get(self, model: type[M], path: str, **params: Any) -> M:
        response = await self._request("GET", path, params=params)
        return model.model_validate(response.json())

    async def _post(self, model: type[M], path: str, body: Any = None) -> M:
        response = await self._request("POST", path, json=body if body is not None else {})
        return model.model_validate(response.json())

    # jobs
    async def list_jobs(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        q: str | None = None,
        skip: int = 0,
        limit: int = 25,
        waiting: bool = False,
        search: str | None = None,
        created_after: str | None = None,
        created_before: str | None = None,
        sort: str | None = None,
    ) -> t.JobPage:
        """A page of jobs; `search` takes the search syntax (input.mode=fast ...); the created
        bounds are ISO 8601 datetimes; `sort` is `-created_at` (the default) or `created_at`."""
        return await self._get(
            t.JobPage,
            "/jobs",
            status=status,
            workflow_id=workflow_id,
            q=q,
            skip=skip,
            limit=limit,
            waiting="true" if waiting else None,
            search=search,
            created_after=created_after,
            created_before=created_before,
            sort=sort,
        )

    async def job_counts(self, *, workflow_id: str | None = None) -> dict[str, int]:
        """Jobs per status (maintained counters), and `waiting` (for a person) when known."""
        response = await self._request("GET", "/jobs/counts", params={"workflow_id": workflow_id})
        body = response.json()
        counts = counts_from_body(body)
        if isinstance(body, dict) and isinstance(body.get("waiting"), int):
            counts["waiting"] = body["waiting"]
        return counts

    async def me(self) -> t.Me:
        """The calling token: its name, role and workspace."""
        return await self._get(t.Me, "/me")

    async def get_job(self, job_id: str) -> t.Job:
        return await self._get(t.Job, f"/jobs/{job_id}")

    async def create_job(
        self,
        workflow_id: str,
        input_payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        force: bool = False,
    ) -> t.Job:
        body: dict[str, Any] = {
            "workflow_id": workflow_id,
            "input_payload": input_payload,
            "force": force,
        }
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        return await self._post(t.Job, "/jobs", body)

    async def cancel_job(self, job_id: str) -> t.Job:
        return await self._post(t.Job, f"/jobs/{job_id}/cancel")

    async def resume_job(self, job_id: str) -> t.Job:
        return await self._post(t.Job, f"/jobs/{job_id}/resume")

    async def rerun_job(self, job_id: str) -> t.Job:
        return await self._post(t.Job, f"/jobs/{job_id}/rerun")

    async def rerun_from(
        self, job_id: str, from_step: str, input_patch: dict[str, Any] | None
    ) -> t.Job:
        """A new job that runs `from_step` and what follows, reusing the other steps."""
        body = {"from_step": from_step, "input_patch": input_patch}
        return await self._post(t.Job, f"/jobs/{job_id}/rerun", body)

    async def compare(self, a: str, b: str) -> t.Comparison:
        return await self._get(t.Comparison, f"/jobs/{a}/compare/{b}")

    # failure inbox and saved views
    async def failures(self, status: str | None = None) -> t.FailureGroups:
        return await self._get(t.FailureGroups, "/failures", status=status)

    async def open_failures(self) -> int:
        response = await self._request("GET", "/failures/counts")
        return int(response.json().get("open", 0))

    async def failure(self, fingerprint: str) -> t.FailureGroupDetail:
        return await self._get(t.FailureGroupDetail, f"/failures/{fingerprint}")

    async def update_failure(
        self, fingerprint: str, changes: dict[str, Any]
    ) -> t.FailureGroupDetail:
        response = await self._request("PATCH", f"/failures/{fingerprint}", json=changes)
        return t.FailureGroupDetail.model_validate(response.json())

    async def rerun_failures(self, fingerprint: str) -> t.RerunGroupResult:
        return await self._post(t.RerunGroupResult, f"/failures/{fingerprint}/rerun")

    async def views(self) -> list[t.SavedView]:
        response = await self._request("GET", "/views")
        return [t.SavedView.model_validate(v) for v in response.json()["items"]]

    async def save_view(self, name: str, query: str, shared: bool) -> t.SavedView:
        body = {"name": name, "query": query, "shared": shared}
        return await self._post(t.SavedView, "/views", body)

    async def delete_view(self, view_id: str) -> None:
        await self._request("DELETE", f"/views/{view_id}")

    async def delete_job(self, job_id: str) -> None:
        await self._request("DELETE", f"/jobs/{job_id}")

    async def bulk(self, action: str, ids: list[str]) -> t.BulkResult:
        response = await self._request("POST", "/jobs/bulk", json={"action": action, "ids": ids})
        return bulk_from_body(response.json())

    async def steps(self, job_id: str) -> t.JobSteps:
        return await self._get(t.JobSteps, f"/jobs/{job_id}/steps")

    async def attempts(self, job_id: str, step_key: str) -> list[t.Attempt]:
        page = await self._get(t.StepAttempts, f"/jobs/{job_id}/steps/{step_key}/attempts")
        return page.attempts

    async def logs(
        self,
        job_id: str,
        *,
        step: str | None = None,
        attempt: int | None = None,
        cursor: str | None = None,
        limit: int = 1000,
    ) -> t.LogPage:
        """Log lines oldest first; pass `next_cursor` back to read the ones after."""
        return await self._get(
            t.LogPage,
            f"/jobs/{job_id}/logs",
            step=step,
            attempt=attempt,
            cursor=cursor,
            limit=limit,
        )

    async def job_events(
        self, job_id: str, *, step: str | None = None, cursor: str | None = None, limit: int = 500
    ) -> t.JobEvents:
        """The job's event history oldest first; pass `next_cursor` back for the ones after."""
        return await self._get(
            t.JobEvents, f"/jobs/{job_id}/events", step=step, cursor=cursor, limit=limit
        )

    async def job_attempts(self, job_id: str) -> t.JobAttempts:
        """Every step with all its attempts: the Gantt's data."""
        return await self._get(t.JobAttempts, f"/jobs/{job_id}/attempts")

    async def export(self, job_id: str) -> bytes:
        """The job's JSON export (job, steps, attempts, logs) as the API serves it."""
        response = await self._request("GET", f"/jobs/{job_id}/export")
        return response.content

    # human steps
    async def execute_step(
        self, job_id: str, step: str, payload: dict[str, Any], idempotency_key: str | None
    ) -> t.Executed:
        """Execute a waiting manual step; the API waits for it up to 30 s."""
        body: dict[str, Any] = {"payload": payload}
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        async with self._http(httpx.Timeout(60.0, connect=3.0)) as http:
            try:
                response = await http.post(f"/jobs/{job_id}/steps/{step}/execute", json=body)
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc
        return t.Executed.model_validate(check(response).json())

    async def review(
        self, job_id: str, *, q: str | None = None, limit: int = 10, offset: int = 0
    ) -> t.Review:
        return await self._get(t.Review, f"/jobs/{job_id}/review", q=q, limit=limit, offset=offset)

    async def decide(self, job_id: str, ids: list[str], decision: str) -> None:
        await self._request(
            "POST", f"/jobs/{job_id}/review/decisions", json={"ids": ids, "decision": decision}
        )

    async def patch_review_item(self, job_id: str, item_id: str, fields: dict[str, Any]) -> None:
        await self._request(
            "PATCH", f"/jobs/{job_id}/review/items/{item_id}", json={"fields": fields}
        )

    async def submit_review(self, job_id: str, undecided: str = "refuse") -> None:
        await self._request("POST", f"/jobs/{job_id}/review/submit", json={"undecided": undecided})

    # workflows
    async def workflows(self) -> list[t.Workflow]:
        page = await self._get(t.WorkflowPage, "/workflows", limit=200)
        return page.items

    async def workflow(self, workflow_id: str, version: int | None = None) -> t.WorkflowDetail:
        return await self._get(t.WorkflowDetail, f"/workflows/{workflow_id}", version=version)

    async def workflow_metrics(self, workflow_id: str) -> t.WorkflowMetrics:
        return await self._get(t.WorkflowMetrics, f"/workflows/{workflow_id}/metrics")

    async def workflow_executions(self, workflow_id: str, *, limit: int = 50) -> t.ExecutionPage:
        return await self._get(t.ExecutionPage, f"/workflows/{workflow_id}/executions", limit=limit)

    async def runs(self, workflow_id: str, *, limit: int = 20) -> t.RunPage:
        """`GET /runs?workflow=`: the workflow's run history, newest first."""
        return await self._get(t.RunPage, "/runs", workflow=workflow_id, limit=limit)

    async def runs_grid(self, workflow_id: str, *, runs: int = 25) -> ops.RunsGrid:
        """`GET /workflows/{id}/runs-grid`: the last `runs` runs x steps, one status a cell."""
        return await self._get(ops.RunsGrid, f"/workflows/{workflow_id}/runs-grid", runs=runs)

    async def workers(self) -> ops.Workers:
        """`GET /workers`: live workers, queue depths, reaper recoveries, why jobs wait."""
        return await self._get(ops.Workers, "/workers")

    # schedules and budgets
    async def schedules(self, workflow_id: str) -> list[t.Schedule]:
        return (await self._get(t.ScheduleList, "/schedules", workflow=workflow_id)).items

    async def schedule_next(self, schedule_id: str, count: int = 5) -> t.NextTimes:
        return await self._get(t.NextTimes, f"/schedules/{schedule_id}/next", count=count)

    async def budgets(self, workflow_id: str) -> list[t.Budget]:
        return (await self._get(t.BudgetList, "/budgets", workflow=workflow_id)).items

    async def budget_daily(self, budget_id: str, days: int = 14) -> list[t.DaySpend]:
        return (await self._get(t.DailySpend, f"/budgets/{budget_id}/daily", days=days)).items

    # live
    async def events(
        self,
        *,
        job_id: str | None = None,
        workflow_id: str | None = None,
        last_event_id: int | None = None,
        on_open: Callable[[], None] | None = None,
    ) -> AsyncIterator[t.Event]:
        """The event stream (SSE) until the server closes it; `on_open` runs once it is
        open. Raises Unreachable when it cannot be opened or breaks, an ApiError when the
        API refuses it."""
        params = query({"job_id": job_id, "workflow_id": workflow_id})
        headers = stream_headers(last_event_id)
        parser = SSEParser()
        try:
            async with (
                self._http(httpx.Timeout(None, connect=3.0)) as http,
                http.stream("GET", "/events", params=params, headers=headers) as response,
            ):
                if response.status_code >= 400:
                    raise error_from_response(response.status_code, await response.aread())
                if on_open is not None:
                    on_open()
                async for line in response.aiter_lines():
                    message = parser.feed(line)
                    if message is not None and message.data:
                        yield t.Event.model_validate_json(message.data)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc


def counts_from_body(body: Any) -> dict[str, int]:
    """`{"total", "by_status": {...}}` (or a bare `{"pending": 1, ...}`) -> per status."""
    if isinstance(body, dict) and isinstance(body.get("by_status"), dict | list):
        body = body["by_status"]
    if isinstance(body, list):
        return {str(c["status"]): int(c.get("count", c.get("n", 0))) for c in body}
    if isinstance(body, dict):
        return {str(k): int(v) for k, v in body.items() if isinstance(v, int | float)}
    return {}


def bulk_from_body(body: Any) -> t.BulkResult:
    """`{"action", "succeeded", "failed", "results": [...]}` -> BulkResult."""
    results = body.get("results", []) if isinstance(body, dict) else body
    return t.BulkResult.model_validate({"results": results})
