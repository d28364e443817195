"""The blocking client of the REST API the CLI uses: one method per route it needs, answers as
the API's JSON (so `--json` prints exactly what the API documents). Errors are
`apiclient.errors`' classes; a server that cannot be reached at all raises `Unreachable`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx

from apiclient.base import Connection, check, query, stream_headers
from apiclient.errors import ApiError, error_from_response
from apiclient.sse import SSEParser

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
LONG_TIMEOUT = httpx.Timeout(900.0, connect=5.0)  # prune of many jobs
STREAM_TIMEOUT = httpx.Timeout(
    connect=5.0, read=45.0, write=10.0, pool=5.0
)  # keep-alives come every 15 s


class SyncClient(Connection):
    """A connection to one API server (a pooled httpx.Client); use as a context manager."""

    user_agent = "jobmonitor-cli"

    def __init__(
        self, base_url: str, token: str | None, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(base_url, token)
        self._transport = transport
        self._http = httpx.Client(**self._http_options(TIMEOUT), transport=transport)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def copy(self) -> SyncClient:
        """Another client of the same server and token (one per thread)."""
        return SyncClient(self.base_url, self._token, self._transport)

    # --- plumbing ---------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; an error status raises its ApiError, no answer raises Unreachable."""
        kwargs["params"] = query(kwargs.get("params"))
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return check(response)

    def _get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params).json()

    def _post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=body if body is not None else {}, **kwargs)

    # --- who am I ---------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """`GET /me`: the token's name, role and workspace."""
        return dict(self._get("/me"))

    # --- jobs -------------------------------------------------------------------------------

    def list_jobs(
        self,
        statuses: list[str],
        workflow_id: str | None,
        limit: int,
        cursor: str | None = None,
        search: str | None = None,
    ) -> dict[str, Any]:
        """`GET /jobs`: a page, newest first, without payloads (`search`: the search syntax)."""
        params = {
            "status": statuses or None,
            "workflow_id": workflow_id,
            "limit": limit,
            "cursor": cursor,
            "search": search,
        }
        return dict(self._get("/jobs", **params))

    def create_job(
        self,
        workflow: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
        force: bool,
        mode: str | None = None,
        item_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """`POST /jobs`: (the job, whether it is the replay of an earlier request with the key)."""
        body: dict[str, Any] = {"workflow": workflow, "input_payload": payload, "force": force}
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        if mode:
            body["mode"] = mode
        if item_id:
            body["item_id"] = item_id
        response = self._post("/jobs", body)
        return response.json(), response.status_code == 200

    def get_job(self, job_id: str) -> dict[str, Any]:
        return dict(self._get(f"/jobs/{job_id}"))

    def job_steps(self, job_id: str) -> list[dict[str, Any]]:
        return list(self._get(f"/jobs/{job_id}/steps")["steps"])

    def step_attempts(self, job_id: str, step_key: str) -> list[dict[str, Any]]:
        return list(self._get(f"/jobs/{job_id}/steps/{step_key}/attempts")["attempts"])

    def job_logs(
        self, job_id: str, step: str | None, cursor: str | None, limit: int = 1000
    ) -> dict[str, Any]:
        """`GET /jobs/{id}/logs`: lines oldest first after `cursor`."""
        return dict(self._get(f"/jobs/{job_id}/logs", step=step, cursor=cursor, limit=limit))

    def export_job(self, job_id: str) -> bytes:
        return self.request("GET", f"/jobs/{job_id}/export").content

    def job_action(self, job_id: str, action: str) -> dict[str, Any]:
        """`POST /jobs/{id}/cancel|resume|rerun`: the job after the action (rerun: the new job)."""
        return dict(self._post(f"/jobs/{job_id}/{action}").json())

    def rerun(self, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /jobs/{id}/rerun` with from_step / input_patch / latest_version: the new job."""
        return dict(self._post(f"/jobs/{job_id}/rerun", body).json())

    def compare(self, a: str, b: str) -> dict[str, Any]:
        return dict(self._get(f"/jobs/{a}/compare/{b}"))

    # --- failure inbox and saved views -----------------------------------------------------

    def failures(self, status: str | None = None) -> dict[str, Any]:
        return dict(self._get("/failures", status=status))

    def failure(self, fingerprint: str) -> dict[str, Any]:
        return dict(self._get(f"/failures/{fingerprint}"))

    def update_failure(self, fingerprint: str, changes: dict[str, Any]) -> dict[str, Any]:
        """`PATCH /failures/{fp}`: state, assignee, note."""
        return dict(self.request("PATCH", f"/failures/{fingerprint}", json=changes).json())

    def rerun_failures(self, fingerprint: str, latest_version: bool) -> dict[str, Any]:
        body = {"latest_version": latest_version}
        return dict(self._post(f"/failures/{fingerprint}/rerun", body).json())

    def views(self) -> list[dict[str, Any]]:
        return list(self._get("/views")["items"])

    def save_view(self, name: str, query: str, shared: bool) -> dict[str, Any]:
        return dict(self._post("/views", {"name": name, "query": query, "shared": shared}).json())

    def delete_view(self, view_id: str) -> None:
        self.request("DELETE", f"/views/{view_id}")

    def prune(self, older_than: str, statuses: list[str] | None, dry_run: bool) -> dict[str, Any]:
        body = {"older_than": older_than, "status": statuses or None, "dry_run": dry_run}
        return dict(self._post("/jobs/prune", body, timeout=LONG_TIMEOUT).json())

    # --- human steps ------------------------------------------------------------------------

    def execute_step(
        self,
        job_id: str,
        step: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
        wait: float,
    ) -> tuple[dict[str, Any], bool]:
        """`POST /jobs/{id}/steps/{step}/execute`: (the outcome, whether the step still runs)."""
        body: dict[str, Any] = {"payload": payload}
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        response = self._post(
            f"/jobs/{job_id}/steps/{step}/execute",
            body,
            params={"wait": wait},
            timeout=httpx.Timeout(wait + 30.0, connect=5.0),
        )
        return dict(response.json()), response.status_code == 202

    def review(self, job_id: str, step: str | None, **page: Any) -> dict[str, Any]:
        """`GET /jobs/{id}/review`: counts and a page of items (`q`, `decision`, `limit`, `offset`)."""
        return dict(self._get(f"/jobs/{job_id}/review", step=step, **page))

    def decide(
        self, job_id: str, step: str | None, ids: list[str], decision: str, note: str | None
    ) -> dict[str, Any]:
        body = {"ids": ids, "decision": decision, "note": note}
        return dict(
            self._post(f"/jobs/{job_id}/review/decisions", body, params={"step": step}).json()
        )

    def patch_review_item(
        self, job_id: str, step: str | None, item_id: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(
            self.request(
                "PATCH",
                f"/jobs/{job_id}/review/items/{item_id}",
                json={"fields": fields},
                params={"step": step},
            ).json()
        )

    def submit_review(self, job_id: str, step: str | None, undecided: str) -> dict[str, Any]:
        return dict(
            self._post(
                f"/jobs/{job_id}/review/submit", {"undecided": undecided}, params={"step": step}
            ).json()
        )

    # --- workflows --------------------------------------------------------------------------

    def workflows(self, limit: int = 200) -> dict[str, Any]:
        return dict(self._get("/workflows", limit=limit))

    def workflow(self, ref: str) -> dict[str, Any]:
        return dict(self._get(f"/workflows/{ref}"))

    def workflow_metrics(self, ref: str) -> dict[str, Any]:
        return dict(self._get(f"/workflows/{ref}/metrics"))

    def register_workflow(self, definition: Any) -> tuple[dict[str, Any], bool]:
        """`POST /workflows`: (the workflow, whether a new version was stored)."""
        response = self._post("/workflows", definition)
        body = response.json()
        return body, bool(body.get("created", response.status_code == 201))

    # --- runs -------------------------------------------------------------------------------

    def runs(self, **filters: Any) -> dict[str, Any]:
        """`GET /runs`: a page of the run history, newest first (filters as the route's)."""
        return dict(self._get("/runs", **filters))

    def run_report(self, job_id: str) -> dict[str, Any]:
        return dict(self._get(f"/runs/{job_id}/report"))

    def preflight(self, workflow: str, waiting_after: float | None = None) -> dict[str, Any]:
        return dict(self._get(f"/workflows/{workflow}/preflight", waiting_after=waiting_after))

    # --- schedules --------------------------------------------------------------------------

    def schedules(self, workflow: str | None = None) -> list[dict[str, Any]]:
        return list(self._get("/schedules", workflow=workflow)["items"])

    def create_schedule(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._post("/schedules", body).json())

    def schedule_action(self, schedule_id: str, action: str) -> dict[str, Any]:
        """`POST /schedules/{id}/pause|resume`: the schedule after the action."""
        return dict(self._post(f"/schedules/{schedule_id}/{action}").json())

    def delete_schedule(self, schedule_id: str) -> None:
        self.request("DELETE", f"/schedules/{schedule_id}")

    def schedule_next(self, schedule_id: str, count: int) -> dict[str, Any]:
        return dict(self._get(f"/schedules/{schedule_id}/next", count=count))

    # --- operations -------------------------------------------------------------------------

    def doctor(self) -> dict[str, Any]:
        return dict(self._get("/doctor"))

    def readiness(self) -> dict[str, Any]:
        """`GET /readyz` (no token needed); its 503 body is returned, not raised."""
        try:
            response = self._http.get("/readyz")
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code not in (200, 503):
            raise error_from_response(response.status_code, response.content)
        return dict(response.json())

    def audit(
        self,
        action: str | None,
        target: str | None,
        actor: str | None,
        cursor: str | None,
        limit: int,
    ) -> dict[str, Any]:
        return dict(
            self._get(
                "/audit", action=action, target_id=target, actor=actor, cursor=cursor, limit=limit
            )
        )

    # --- live -------------------------------------------------------------------------------

    def events(
        self,
        job_id: str,
        last_event_id: int | None = None,
        on_open: Callable[[], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """`GET /events?job_id=...&until_terminal=true` as parsed events, until the server ends
        the stream. Raises Unreachable when it cannot be opened or breaks."""
        headers = stream_headers(last_event_id)
        params = {"job_id": job_id, "until_terminal": "true"}
        parser = SSEParser()
        try:
            with self._http.stream(
                "GET", "/events", params=params, headers=headers, timeout=STREAM_TIMEOUT
            ) as response:
                if response.status_code >= 400:
                    raise error_from_response(response.status_code, response.read())
                if on_open is not None:
                    on_open()
                for line in response.iter_lines():
                    message = parser.feed(line)
                    if message is not None and message.data:
                        yield _event(message.data, message.id)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc


def _event(data: str, event_id: str | None) -> dict[str, Any]:
    event = json.loads(data)
    if not isinstance(event, dict):
        raise ApiError(f"the event stream sent a non-object: {data[:100]}")
    if event.get("id") is None and event_id is not None:
        event["id"] = int(event_id)
    return event
