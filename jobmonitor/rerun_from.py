"""Re-run from here: a new job that reuses the outputs of the steps before the chosen one and
runs it and everything after it, with the input form prefilled from the job (edits are sent
as a JSON merge patch)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from apiclient.errors import ApiError, ValidationFailed
from jobmonitor import forms, routes
from jobmonitor.components.guard import guarded_button
from jobmonitor.components.schema_form import schema_form
from jobmonitor.state import AccessState, action_error_toast, client_of

FINISHED = ("completed", "failed", "cancelled")


def merge_patch(old: Any, new: Any) -> Any:
    """The RFC 7386 patch that turns `old` into `new` (removed keys become null)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: dict[str, Any] = {k: None for k in old if k not in new}
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            patch[key] = merge_patch(old[key], value)
    return patch


class RerunFromState(rx.State):
    is_open: bool = False
    job_id: str = ""
    step_key: str = ""
    fields: list[forms.FormField] = []
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    json_text: str = "{}"
    problem: str = ""
    _original: dict[str, Any] = {}

    @rx.event
    async def open_dialog(self, job_id: str, step_key: str) -> AsyncIterator[Any]:
        self.job_id, self.step_key, self.problem = job_id, step_key, ""
        try:
            client = await client_of(self)
            job = await client.get_job(job_id)
            workflow = await client.workflow(job.workflow_id)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        self._original = dict(job.input_payload or {})
        self.fields = forms.form_fields(workflow.input_schema)
        self.values = forms.initial_values(self.fields, self._original)
        self.errors = {f.name: "" for f in self.fields}
        self.json_text = forms.json_text(self._original)
        self.is_open = True

    @rx.event
    def set_open(self, value: bool) -> None:
        self.is_open = value

    @rx.event
    def set_value(self, name: str, value: str) -> None:
        self.values[name], self.errors[name] = value, ""

    @rx.event
    def set_flag(self, name: str, checked: bool) -> None:
        self.set_value(name, "true" if checked else "false")

    @rx.event
    def set_json_text(self, value: str) -> None:
        self.json_text, self.problem = value, ""

    def _payload(self) -> dict[str, Any] | None:
        if not self.fields:
            try:
                return forms.parse_json_payload(self.json_text)
            except ValueError as exc:
                self.problem = str(exc)
                return None
        payload, errors = forms.build_payload(self.fields, self.values)
        if errors:
            self.errors = {f.name: errors.get(f.name, "") for f in self.fields}
            return None
        named = {f.name for f in self.fields}
        return {**{k: v for k, v in self._original.items() if k not in named}, **payload}

    @rx.event
    async def submit(self) -> AsyncIterator[Any]:
        payload = self._payload()
        if payload is None:
            return
        patch = merge_patch(self._original, payload)
        try:
            job = await (await client_of(self)).rerun_from(
                self.job_id, self.step_key, patch or None
            )
        except ValidationFailed as exc:
            self.problem = exc.message
            return
        except ApiError as exc:
            self.problem = exc.message
            return
        self.is_open = False
        yield rx.toast.success(f"Re-running from {self.step_key}")
        yield rx.redirect(routes.job(job.id))


def rerun_from_button(
    job_id: rx.Var[str], step_key: rx.Var[str], status: rx.Var[str]
) -> rx.Component:
    finished = (status == FINISHED[0]) | (status == FINISHED[1]) | (status == FINISHED[2])
    return rx.cond(
        finished & (step_key != ""),
        guarded_button(
            rx.icon("rotate-ccw", size=14),
            "Re-run from here",
            size="2",
            variant="soft",
            on_click=RerunFromState.open_dialog(job_id, step_key),
            allowed=AccessState.can_operate,
            reason=AccessState.operate_denied,
        ),
    )


def rerun_from_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Re-run from " + RerunFromState.step_key),
            rx.dialog.description(
                "The steps before it keep their outputs (reused, not run again); this step and "
                "every step after it run with the input below.",
                size="2",
            ),
            rx.vstack(
                rx.cond(
                    RerunFromState.fields.length() > 0,
                    schema_form(
                        RerunFromState.fields,
                        RerunFromState.values,
                        RerunFromState.errors,
                        RerunFromState.set_value,
                        RerunFromState.set_flag,
                    ),
                    rx.text_area(
                        value=RerunFromState.json_text,
                        on_change=RerunFromState.set_json_text,
                        aria_label="Input JSON",
                        rows="8",
                        width="100%",
                    ),
                ),
                rx.cond(
                    RerunFromState.problem != "",
                    rx.text(RerunFromState.problem, color_scheme="red", size="2", role="alert"),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Re-run", on_click=RerunFromState.submit),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
            ),
        ),
        open=RerunFromState.is_open,
        on_open_change=RerunFromState.set_open,
    )
