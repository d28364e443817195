"""The job search box's help: the syntax, with examples (the same as `GET /jobs?search=`
and `jobmonitor jobs --search`)."""

from __future__ import annotations

import reflex as rx

EXAMPLES = (
    ("input.mode=fast", "a field of the input (dots reach nested fields)"),
    ("input.records>100", "compare: = != > >= < <="),
    ("metadata.operator=cli", "the job's metadata"),
    ("output.rows exists", "a field is there (or: missing)"),
    ('error~"connection refused"', "the error text contains"),
    ("error_type=ValueError", "the type of the error that failed a step"),
    ("failed_step=transform", "the step that failed"),
    ("cost>=0.5  duration>90s", "cost in USD; duration in s, m, h"),
    ("status=failed,cancelled", "statuses"),
    ("nightly", "other words: workflow name or job ID"),
)


def search_help() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(
                rx.icon("circle-help", size=14), variant="ghost", size="1", aria_label="Search help"
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Search inside runs: combine terms with spaces.", size="2", weight="bold"),
                *[
                    rx.hstack(
                        rx.code(term, size="1"),
                        rx.text(what, size="1", color_scheme="gray"),
                        spacing="2",
                    )
                    for term, what in EXAMPLES
                ],
                spacing="1",
            ),
            aria_label="Search syntax",
        ),
    )
