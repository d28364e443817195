"""CreateJobDialog: pick a workflow (with search), fill the form generated from its input
schema (or edit the JSON), optionally give an idempotency key, and start the job. Used by
the job list and the workflow page, so its state lives here rather than in one page."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx
from reflex_components_sonner.toast import ToastAction

from apiclient.errors import ApiError, ValidationFailed
from jobmonitor import forms, routes
from jobmonitor.components.schema_form import schema_form
from jobmonitor.format import short_id
from jobmonitor.state import action_error_toast, client_of

FORM, JSON = "form", "json"
# the picked workflow stays in sight in the list (preselected from a workflow's page)
SCROLL_TO_CHOSEN = (
    "setTimeout(() => document.querySelector('[role=option][aria-selected=true]')"
    "?.scrollIntoView({block: 'nearest'}), 50)"
)


@dataclass
class WorkflowOption:
    id: str = ""
    name: str = ""
    description: str = ""


class CreateJobState(rx.State):
    is_open: bool = False
    workflows: list[WorkflowOption] = []
    query: str = ""
    chosen_id: str = ""
    chosen_name: str = ""
    fields: list[forms.FormField] = []
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    other_errors: list[str] = []
    mode: str = FORM
    json_text: str = "{}"
    json_error: str = ""
    json_notice: str = ""  # values the JSON tab carries as typed because they do not parse
    extra_keys: list[str] = []  # keys of the JSON tab the form has no field for
    _extra: dict[str, Any] = {}  # their values: sent with the form's payload
    idempotency_key: str = ""
    loading: bool = False
    submitting: bool = False

    @rx.var
    def matching(self) -> list[WorkflowOption]:
        q = self.query.strip().lower()
        return [w for w in self.workflows if q in w.name.lower() or q in w.description.lower()]

    @rx.event
    async def open_dialog(self, workflow_id: str = "") -> AsyncIterator[Any]:
        """Open the dialog (with `workflow_id` preselected when given)."""
        self.is_open, self.query, self.idempotency_key = True, "", ""
        self.other_errors, self.json_error = [], ""
        self.loading = True
        yield
        try:
            client = await client_of(self)
            self.workflows = [
                WorkflowOption(w.id, w.name, w.description) for w in await client.workflows()
            ]
        except ApiError as exc:
            self.loading = False
            yield action_error_toast(exc)
            return
        self.loading = False
        chosen = workflow_id or (
            self.chosen_id if any(w.id == self.chosen_id for w in self.workflows) else ""
        )
        if chosen:
            async for update in self._choose(chosen):
                yield update

    @rx.event
    def set_open(self, value: bool) -> None:
        self.is_open = value

    @rx.event
    def set_query(self, value: str) -> None:
        self.query = value

    @rx.event
    async def choose(self, workflow_id: str) -> AsyncIterator[Any]:
        async for update in self._choose(workflow_id):
            yield update

    async def _choose(self, workflow_id: str) -> AsyncIterator[Any]:
        self.loading = True
        yield
        try:
            workflow = await (await client_of(self)).workflow(workflow_id)
        except ApiError as exc:
            self.loading = False
            yield action_error_toast(exc)
            return
        self.chosen_id, self.chosen_name = workflow.id, workflow.name
        self.fields = forms.form_fields(workflow.input_schema)
        self.values = forms.initial_values(self.fields)
        self.errors = {f.name: "" for f in self.fields}
        self.other_errors, self.json_error, self.json_notice = [], "", ""
        self._extra, self.extra_keys = {}, []
        self.json_text = forms.json_text(forms.build_payload(self.fields, self.values)[0])
        self.mode = FORM if self.fields else JSON
        self.loading = False
        yield rx.call_script(SCROLL_TO_CHOSEN)

    @rx.event
    def set_value(self, name: str, value: str) -> None:
        self._set(name, value)

    @rx.event
    def set_flag(self, name: str, checked: bool) -> None:
        self._set(name, "true" if checked else "false")

    def _set(self, name: str, value: str) -> None:
        self.values[name] = value
        self.errors[name] = ""

    @rx.event
    def set_json_text(self, value: str) -> None:
        self.json_text, self.json_error = value, ""

    @rx.event
    def set_idempotency_key(self, value: str) -> None:
        self.idempotency_key = value

    @rx.event
    def new_idempotency_key(self) -> None:
        self.idempotency_key = uuid.uuid4().hex

    @rx.event
    def set_mode(self, mode: str) -> None:
        """Switch between the form and the JSON editor, carrying the values across."""
        if mode == self.mode:
            return
        if mode == JSON:
            # a value that does not parse goes across as typed, flagged, never dropped
            payload, invalid = forms.draft_payload(self.fields, self.values)
            self.json_text = forms.json_text({**payload, **self._extra})
            self.json_error = ""
            self.json_notice = forms.kept_as_typed(invalid, self.fields)
            self.errors = {f.name: invalid.get(f.name, "") for f in self.fields}
        else:
            try:
                payload = forms.parse_json_payload(self.json_text)
            except ValueError as exc:
                self.json_error = str(exc)
                return
            names = {f.name for f in self.fields}
            self.values = forms.initial_values(self.fields, payload)
            self.errors = {f.name: "" for f in self.fields}
            self._extra = {k: v for k, v in payload.items() if k not in names}
            self.extra_keys, self.json_notice = list(self._extra), ""
        self.mode = mode

    def _payload(self) -> dict[str, Any] | None:
        """The payload of the active tab, or None after showing what is wrong inline."""
        if self.mode == JSON:
            try:
                return forms.parse_json_payload(self.json_text)
            except ValueError as exc:
                self.json_error = str(exc)
                return None
        payload, errors = forms.build_payload(self.fields, self.values)
        self.errors = {f.name: errors.get(f.name, "") for f in self.fields}
        return None if errors else {**payload, **self._extra}

    @rx.event
    async def submit(self) -> AsyncIterator[Any]:
        self.other_errors = []
        payload = self._payload()
        if payload is None or not self.chosen_id:
            return
        self.submitting = True
        yield
        try:
            client = await client_of(self)
            job = await client.create_job(
                self.chosen_id, payload, idempotency_key=self.idempotency_key or None
            )
        except ValidationFailed as exc:
            self._show_rejection(exc)
            return
        except ApiError as exc:
            self.submitting = False
            yield action_error_toast(exc)
            return
        finally:
            self.submitting = False
        self.is_open = False
        yield rx.toast.success(
            f"Job {short_id(job.id)} started",
            description=f"{self.chosen_name}: open it to follow it live.",
            action=ToastAction(label="View job", on_click=rx.redirect(routes.job(job.id))),
            duration=8000,
        )

    def _show_rejection(self, exc: ValidationFailed) -> None:
        by_field, other = forms.field_errors(exc.details, self.fields)
        if self.mode == FORM:
            self.errors = {f.name: by_field.get(f.name, "") for f in self.fields}
        else:
            other = [*(f"{k}: {v}" for k, v in by_field.items()), *other]
        self.other_errors = other or ([] if by_field else [exc.message])


def _workflow_option(w: rx.Var[WorkflowOption]) -> rx.Component:
    """One row: the name, and the description cut to the rest of the line (full on hover).
    Keyed by the workflow's id, not its place: when a search re-renders the list, a row's
    element stays its workflow's, so a click that lands meanwhile picks what it was aimed at."""
    selected = CreateJobState.chosen_id == w.id
    return rx.el.button(
        rx.text(w.name, weight="medium", size="2", class_name="jm-option-name"),
        rx.text(w.description, size="1", color_scheme="gray", class_name="jm-option-desc"),
        role="option",
        aria_selected=rx.cond(selected, "true", "false"),
        type="button",
        title=w.description,
        on_click=CreateJobState.choose(w.id),
        class_name=rx.cond(selected, "jm-option jm-option-selected", "jm-option"),
        key=w.id,
    )


def _workflow_picker() -> rx.Component:
    """Search and a list of one-line rows (about six in sight, the rest scroll)."""
    return rx.vstack(
        rx.el.label("Workflow", html_for="workflow-search", class_name="jm-label"),
        rx.input(
            id="workflow-search",
            placeholder="Search workflows",
            value=CreateJobState.query,
            on_change=CreateJobState.set_query,
            width="100%",
        ),
        rx.el.div(
            rx.foreach(CreateJobState.matching, _workflow_option),
            rx.cond(
                CreateJobState.matching.length() == 0,
                rx.text("No workflow matches.", size="2", color_scheme="gray", padding="6px 10px"),
            ),
            role="listbox",
            aria_label="Workflows",
            class_name="jm-option-list",
        ),
        width="100%",
        spacing="2",
    )


def _json_editor() -> rx.Component:
    return rx.vstack(
        rx.el.label("Input JSON", html_for="input-json", class_name="jm-label"),
        rx.text_area(
            id="input-json",
            value=CreateJobState.json_text,
            on_change=CreateJobState.set_json_text,
            rows="10",
            width="100%",
            font_family="var(--code-font-family)",
            aria_invalid=rx.cond(CreateJobState.json_error != "", "true", "false"),
        ),
        rx.cond(
            CreateJobState.json_error != "",
            rx.text(CreateJobState.json_error, size="1", color_scheme="red", role="alert"),
        ),
        rx.cond(
            CreateJobState.json_notice != "",
            rx.callout(
                CreateJobState.json_notice,
                icon="triangle-alert",
                color_scheme="amber",
                size="1",
                role="status",
                width="100%",
            ),
        ),
        width="100%",
        spacing="1",
    )


def _input_tabs() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(rx.tabs.trigger("Form", value=FORM), rx.tabs.trigger("JSON", value=JSON)),
        rx.tabs.content(
            rx.box(
                rx.cond(
                    CreateJobState.fields.length() > 0,
                    schema_form(
                        CreateJobState.fields,
                        CreateJobState.values,
                        CreateJobState.errors,
                        CreateJobState.set_value,
                        CreateJobState.set_flag,
                    ),
                    rx.text(
                        "This workflow takes no input fields; use the JSON tab.",
                        size="2",
                        color_scheme="gray",
                    ),
                ),
                rx.cond(
                    CreateJobState.extra_keys.length() > 0,
                    rx.text(
                        "Also sent, from the JSON tab (edit them there): ",
                        CreateJobState.extra_keys.join(", "),
                        size="1",
                        color_scheme="gray",
                        margin_top="8px",
                    ),
                ),
                padding_top="12px",
            ),
            value=FORM,
        ),
        rx.tabs.content(rx.box(_json_editor(), padding_top="12px"), value=JSON),
        value=CreateJobState.mode,
        on_change=CreateJobState.set_mode,
        width="100%",
    )


def _idempotency() -> rx.Component:
    return rx.vstack(
        rx.el.label(
            "Idempotency key (optional)", html_for="idempotency-key", class_name="jm-label"
        ),
        rx.hstack(
            rx.input(
                id="idempotency-key",
                value=CreateJobState.idempotency_key,
                on_change=CreateJobState.set_idempotency_key,
                placeholder="the same key never starts a second job",
                width="100%",
            ),
            rx.button(
                "Generate",
                type="button",
                variant="soft",
                on_click=CreateJobState.new_idempotency_key,
            ),
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _rejections() -> rx.Component:
    return rx.foreach(
        CreateJobState.other_errors,
        lambda e: rx.callout(
            e, icon="circle-alert", color_scheme="red", size="1", role="alert", width="100%"
        ),
    )


def _actions() -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
        rx.button(
            "Start job",
            on_click=CreateJobState.submit,
            loading=CreateJobState.submitting,
            disabled=(CreateJobState.chosen_id == "") | CreateJobState.loading,
        ),
        justify="end",
        width="100%",
    )


def create_job_dialog() -> rx.Component:
    """Title on top, the picker and form in a body that scrolls, and the API's refusals and
    Start job in a footer that stays in sight however long the form is."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.box(
                rx.dialog.title("New job", margin_bottom="4px"),
                rx.dialog.description(
                    "Start a workflow with an input payload.", size="2", color_scheme="gray"
                ),
                class_name="jm-dialog-head",
            ),
            rx.box(
                rx.vstack(
                    _workflow_picker(),
                    rx.cond(
                        CreateJobState.chosen_id != "",
                        rx.vstack(_input_tabs(), _idempotency(), width="100%", spacing="3"),
                    ),
                    spacing="4",
                    width="100%",
                ),
                class_name="jm-dialog-body",
            ),
            rx.vstack(_rejections(), _actions(), spacing="2", class_name="jm-dialog-foot"),
            max_width="560px",
            class_name="jm-dialog",
        ),
        open=CreateJobState.is_open,
        on_open_change=CreateJobState.set_open,
    )
