"""The view of the job page's "Waiting for you" panel (its state: `human_steps.HumanState`):
Execute buttons and the Execute dialog (the New-job dialog's schema form), and the Review
panel (items table with checkboxes, inline editor, counts, Approve / Reject selected, Submit)."""

from __future__ import annotations

import reflex as rx

from jobmonitor.components.guard import guarded_button
from jobmonitor.components.schema_form import schema_form
from jobmonitor.pages.human_steps import PAGE_SIZE, HumanState
from jobmonitor.review_view import ReviewRow, WaitingStep
from jobmonitor.state import AccessState


def _execute_button(step: rx.Var[WaitingStep]) -> rx.Component:
    return rx.cond(
        step.run == "manual",
        guarded_button(
            rx.icon("play", size=14),
            "Execute " + step.name,
            on_click=HumanState.open_execute(step.key),
            color_scheme="violet",
            allowed=AccessState.can_operate,
            reason=AccessState.operate_denied,
        ),
    )


def _execute_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Execute " + HumanState.exec_name),
            rx.dialog.description(
                "Run this step now with a payload (checked against its input schema).",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                schema_form(
                    HumanState.fields,
                    HumanState.values,
                    HumanState.errors,
                    HumanState.set_value,
                    HumanState.set_flag,
                ),
                rx.el.label("Idempotency key", html_for="execute-key", class_name="jm-label"),
                rx.input(
                    id="execute-key",
                    value=HumanState.idempotency_key,
                    on_change=HumanState.set_idempotency_key,
                    width="100%",
                ),
                rx.foreach(
                    HumanState.other_errors,
                    lambda e: rx.callout(e, icon="circle-alert", color_scheme="red", role="alert"),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Run step",
                        on_click=HumanState.execute,
                        loading=HumanState.busy == "execute",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
            ),
            max_width="560px",
        ),
        open=HumanState.exec_open,
        on_open_change=HumanState.set_exec_open,
    )


def _decision_badge(decision: rx.Var[str]) -> rx.Component:
    return rx.match(
        decision,
        ("approved", rx.badge("Approved", color_scheme="green")),
        ("rejected", rx.badge("Rejected", color_scheme="red")),
        rx.badge("Undecided", color_scheme="gray"),
    )


def _editor(row: rx.Var[ReviewRow]) -> rx.Component:
    return rx.vstack(
        rx.text_area(
            value=HumanState.edit_text,
            on_change=HumanState.set_edit_text,
            rows="6",
            font_family="var(--code-font-family)",
            aria_label="Editable fields of " + row.id,
            width="100%",
        ),
        rx.cond(
            HumanState.edit_error != "",
            rx.text(HumanState.edit_error, size="1", color_scheme="red", role="alert"),
        ),
        rx.hstack(
            rx.button(
                "Save", size="1", on_click=HumanState.save_edit, loading=HumanState.busy == "edit"
            ),
            rx.button("Cancel", size="1", variant="soft", on_click=HumanState.cancel_edit),
        ),
        width="100%",
    )


def _review_row(row: rx.Var[ReviewRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=HumanState.selected.contains(row.id),
                on_change=lambda c: HumanState.toggle(row.id, c),
                aria_label="Select " + row.id,
                disabled=~HumanState.review.gate_waiting,
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(row.title, size="2"),
                rx.cond(
                    HumanState.editing == row.id,
                    _editor(row),
                    rx.code(row.detail, size="1", variant="ghost"),
                ),
                rx.cond(row.edited, rx.badge("Edited", color_scheme="blue", size="1")),
                spacing="1",
                align="start",
            )
        ),
        rx.table.cell(_decision_badge(row.decision)),
        rx.table.cell(
            guarded_button(
                "Edit",
                size="1",
                variant="soft",
                aria_label="Edit " + row.id,
                on_click=HumanState.start_edit(row.id),
                disabled=~HumanState.review.gate_waiting,
                allowed=AccessState.can_operate,
                reason=AccessState.operate_denied,
            )
        ),
        data_item=row.id,
    )


def _counts() -> rx.Component:
    r = HumanState.review
    return rx.hstack(
        rx.badge(r.approved.to_string() + " approved", color_scheme="green"),
        rx.badge(r.rejected.to_string() + " rejected", color_scheme="red"),
        rx.badge(r.undecided.to_string() + " undecided", color_scheme="gray"),
        rx.cond(HumanState.draft_label != "", rx.badge("Draft: " + HumanState.draft_label)),
        aria_label="Review counts",
        spacing="2",
        wrap="wrap",
    )


def _review_actions() -> rx.Component:
    none_selected = HumanState.selected.length() == 0
    closed = ~HumanState.review.gate_waiting
    return rx.flex(
        guarded_button(
            "Approve selected",
            color_scheme="green",
            on_click=HumanState.decide("approve"),
            disabled=none_selected | closed,
            loading=HumanState.busy == "approve",
            allowed=AccessState.can_operate,
            reason=AccessState.operate_denied,
        ),
        guarded_button(
            "Reject selected",
            color_scheme="red",
            variant="soft",
            on_click=HumanState.decide("reject"),
            disabled=none_selected | closed,
            loading=HumanState.busy == "reject",
            allowed=AccessState.can_operate,
            reason=AccessState.operate_denied,
        ),
        rx.spacer(),
        rx.cond(
            HumanState.review.undecided > 0,
            guarded_button(
                "Submit, rejecting undecided",
                variant="soft",
                on_click=HumanState.submit("reject"),
                disabled=closed,
                allowed=AccessState.can_operate,
                reason=AccessState.operate_denied,
            ),
        ),
        guarded_button(
            "Submit review",
            on_click=HumanState.submit("refuse"),
            disabled=closed | (HumanState.review.undecided > 0),
            loading=HumanState.busy == "submit",
            allowed=AccessState.can_operate,
            reason=AccessState.operate_denied,
        ),
        gap="2",
        wrap="wrap",
        width="100%",
    )


def _review_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Review: " + HumanState.review.name, as_="h3", size="3"),
            rx.cond(
                HumanState.review.status == "submitted", rx.badge("Submitted", color_scheme="green")
            ),
            align="center",
        ),
        _counts(),
        rx.input(
            placeholder="Search items",
            aria_label="Search items",
            value=HumanState.query,
            on_change=HumanState.set_query.debounce(300),
            width="100%",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(
                        rx.checkbox(
                            on_change=HumanState.toggle_page,
                            aria_label="Select all on this page",
                            disabled=~HumanState.review.gate_waiting,
                        ),
                        width="36px",
                    ),
                    rx.table.column_header_cell("Item"),
                    rx.table.column_header_cell("Decision"),
                    rx.table.column_header_cell(rx.text("Edit", class_name="jm-sr-only")),
                )
            ),
            rx.table.body(rx.foreach(HumanState.rows, _review_row)),
            width="100%",
            variant="surface",
            aria_label="Review items",
        ),
        rx.hstack(
            rx.text(HumanState.range_label, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.button(
                "Previous",
                size="1",
                variant="soft",
                on_click=HumanState.go_page(-1),
                disabled=HumanState.offset == 0,
            ),
            rx.button(
                "Next",
                size="1",
                variant="soft",
                on_click=HumanState.go_page(1),
                disabled=HumanState.offset + PAGE_SIZE >= HumanState.review.matched,
            ),
            width="100%",
            align="center",
        ),
        _review_actions(),
        spacing="3",
        width="100%",
    )


def human_panel() -> rx.Component:
    """The panel, shown while a step waits for a person or the job has a review."""
    return rx.cond(
        (HumanState.waiting.length() > 0) | (HumanState.review.step != ""),
        rx.el.section(
            rx.card(
                rx.vstack(
                    rx.heading("Waiting for you", as_="h2", size="3", color_scheme="gray"),
                    rx.flex(rx.foreach(HumanState.waiting, _execute_button), gap="2", wrap="wrap"),
                    rx.cond(HumanState.review.step != "", _review_panel()),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
            _execute_dialog(),
            aria_label="Waiting for you",
            class_name="jm-panel jm-human-panel",
        ),
    )
