"""The fields of a form generated from a JSON Schema (see `jobmonitor.forms`): one labelled
control per field, chosen by its kind, with its required mark, help and inline error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from jobmonitor import forms

SetValue = Callable[[Any, Any], Any]  # (field name Var, value) -> event


def _control_id(field: rx.Var[Any]) -> rx.Var[str]:
    return "field-" + field.name.to(str)


def _text_props(
    field: rx.Var[Any], value: rx.Var[str], error: rx.Var[str], on_change: SetValue
) -> dict[str, Any]:
    """What every text control of the form shares: its id, value, and accessible state."""
    return {
        "id": _control_id(field),
        "value": value,
        "placeholder": field.placeholder.to(str),
        "on_change": lambda v: on_change(field.name, v),
        "aria_invalid": rx.cond(error != "", "true", "false"),
        "aria_required": rx.cond(field.required, "true", "false"),
        "aria_describedby": "error-" + field.name.to(str),
        "width": "100%",
    }


def _text_input(
    field: rx.Var[Any], value: rx.Var[str], error: rx.Var[str], on_change: SetValue, **props: Any
) -> rx.Component:
    return rx.input(**_text_props(field, value, error, on_change), **props)


def _text_area(
    field: rx.Var[Any], value: rx.Var[str], error: rx.Var[str], on_change: SetValue
) -> rx.Component:
    return rx.text_area(
        **_text_props(field, value, error, on_change),
        rows="3",
        font_family="var(--code-font-family)",
    )


def _select(
    field: rx.Var[Any], value: rx.Var[str], error: rx.Var[str], on_change: SetValue
) -> rx.Component:
    return rx.el.select(
        rx.el.option(
            rx.cond(field.required, "Choose…", "(none)"), value="", disabled=field.required.to(bool)
        ),
        rx.foreach(field.options.to(list[str]), lambda o: rx.el.option(o, value=o)),
        id=_control_id(field),
        value=value,
        on_change=lambda v: on_change(field.name, v),
        aria_required=rx.cond(field.required, "true", "false"),
        aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby="error-" + field.name.to(str),
        class_name="jm-native-select",
    )


def _switch(field: rx.Var[Any], value: rx.Var[str], on_toggle: SetValue) -> rx.Component:
    return rx.switch(
        id=_control_id(field),
        checked=value == "true",
        on_change=lambda checked: on_toggle(field.name, checked),
    )


def _control(
    field: rx.Var[Any],
    value: rx.Var[str],
    error: rx.Var[str],
    on_change: SetValue,
    on_toggle: SetValue,
) -> rx.Component:
    return rx.match(
        field.kind.to(str),
        (forms.BOOLEAN, _switch(field, value, on_toggle)),
        (forms.ENUM, _select(field, value, error, on_change)),
        (forms.STRING_LIST, _text_area(field, value, error, on_change)),
        (forms.JSON, _text_area(field, value, error, on_change)),
        (forms.NUMBER, _text_input(field, value, error, on_change, input_mode="decimal")),
        (forms.INTEGER, _text_input(field, value, error, on_change, input_mode="numeric")),
        _text_input(field, value, error, on_change),
    )


def form_field(
    field: rx.Var[Any],
    values: rx.Var[dict[str, str]],
    errors: rx.Var[dict[str, str]],
    on_change: SetValue,
    on_toggle: SetValue,
) -> rx.Component:
    """One field: label (with a required mark), control, description, inline error."""
    value = values[field.name.to(str)].to(str)
    error = errors[field.name.to(str)].to(str)
    return rx.vstack(
        rx.el.label(
            field.label.to(str),
            rx.cond(
                field.required, rx.text(" *", as_="span", color_scheme="red", aria_hidden="true")
            ),
            html_for=_control_id(field),
            class_name="jm-label",
        ),
        _control(field, value, error, on_change, on_toggle),
        rx.cond(
            field.description.to(str) != "",
            rx.text(field.description.to(str), size="1", color_scheme="gray"),
        ),
        rx.cond(
            error != "",
            rx.text(
                error, id="error-" + field.name.to(str), size="1", color_scheme="red", role="alert"
            ),
        ),
        spacing="1",
        width="100%",
        align="start",
    )


def schema_form(
    fields: rx.Var[list[Any]],
    values: rx.Var[dict[str, str]],
    errors: rx.Var[dict[str, str]],
    on_change: SetValue,
    on_toggle: SetValue,
) -> rx.Component:
    return rx.vstack(
        rx.foreach(fields, lambda f: form_field(f, values, errors, on_change, on_toggle)),
        spacing="3",
        width="100%",
    )
