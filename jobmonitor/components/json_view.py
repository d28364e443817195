"""Payloads, outputs, errors and logs as text in code blocks (never as HTML)."""

from __future__ import annotations

import reflex as rx

CODE_STYLE = {
    "font_family": "var(--code-font-family)",
    "font_size": "12px",
    "white_space": "pre-wrap",
    "word_break": "break-word",
    "background": "var(--gray-a3)",
    "border_radius": "var(--radius-2)",
    "padding": "8px 10px",
    "margin": "0",
    "max_height": "320px",
    "overflow": "auto",
}


def code_text(text: rx.Var[str] | str, **props: object) -> rx.Component:
    """A block of preformatted text (React escapes it: `<script>` shows as `<script>`)."""
    return rx.el.pre(rx.el.code(text), style={**CODE_STYLE, **props.pop("style", {})}, **props)  # type: ignore[dict-item]


def json_section(
    label: str, text: rx.Var[str], *, open_: bool | rx.Var[bool] = False
) -> rx.Component:
    """A collapsible JSON viewer: a summary line that toggles the code block."""
    return rx.el.details(
        rx.el.summary(rx.text(label, as_="span", weight="medium", size="2"), cursor="pointer"),
        code_text(text, margin_top="6px"),
        open=open_,
        width="100%",
    )


def labelled(label: str, value: rx.Component | rx.Var[str] | str) -> rx.Component:
    """A label above its value (the info panels' rows)."""
    body = value if isinstance(value, rx.Component) else rx.text(value, size="2")
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"), body, spacing="0", align="start"
    )
