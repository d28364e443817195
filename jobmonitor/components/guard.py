"""A control the signed-in token may not use: shown disabled, with a tooltip that says why
(a disabled button receives no pointer events, so the tooltip sits on a focusable wrapper)."""

from __future__ import annotations

from typing import Any

import reflex as rx


def guarded_button(
    *children: Any,
    allowed: rx.Var[bool],
    reason: rx.Var[str] | str,
    disabled: rx.Var[bool] | bool = False,
    **props: Any,
) -> rx.Component:
    """`rx.button(*children, **props)` when `allowed`; otherwise the same button disabled,
    in a tooltip showing `reason`."""
    return rx.cond(
        allowed,
        rx.button(*children, disabled=disabled, **props),
        denied(rx.button(*children, disabled=True, **_without_events(props)), reason),
    )


def denied(control: rx.Component, reason: rx.Var[str] | str) -> rx.Component:
    """`control` (already disabled) with `reason` as its tooltip and accessible description."""
    return rx.tooltip(
        rx.el.span(
            control,
            tab_index=0,
            aria_label=reason,
            custom_attrs={"data-denied": "true"},
            class_name="jm-denied",
        ),
        content=reason,
    )


def _without_events(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("on_")}
