"""The run history table of a workflow's page (the CLI's `jobmonitor history`): rows built
from `GET /runs` with the text already formatted, and the table that renders them."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from apiclient import models as t
from apiclient.format import DASH, delta_text, duration_text
from jobmonitor import routes
from jobmonitor.components.status_badge import status_badge
from jobmonitor.components.time import timestamp
from jobmonitor.format import iso, short_id


@dataclass
class RunHistoryRow:
    id: str = ""
    href: str = ""
    label: str = ""
    mode: str = ""
    requested_by: str = ""
    status: str = ""
    created_at: str = ""
    duration: str = ""
    steps: str = ""
    change: str = ""


def run_rows(runs: list[t.Run]) -> list[RunHistoryRow]:
    return [
        RunHistoryRow(
            id=r.id,
            href=routes.job(r.id),
            label=f"#{r.execution_number} {short_id(r.id)}",
            mode=r.mode + (f" {r.item_id}" if r.item_id else ""),
            requested_by=r.requested_by or DASH,
            status=r.status,
            created_at=iso(r.created_at),
            duration=duration_text(r.duration_seconds),
            steps=f"{r.steps_completed}/{r.step_count}",
            change=delta_text(r.state_before, r.state_after, r.delta),
        )
        for r in runs
    ]


HEADERS = (
    "Run",
    "Created",
    "Mode",
    "Requested by",
    "Status",
    "Duration",
    "Steps",
    "Before → after",
)


def _row(r: rx.Var[RunHistoryRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r.label, href=r.href)),
        rx.table.cell(timestamp(r.created_at)),
        rx.table.cell(r.mode),
        rx.table.cell(rx.text(r.requested_by, size="1")),
        rx.table.cell(status_badge(r.status)),
        rx.table.cell(r.duration),
        rx.table.cell(r.steps),
        rx.table.cell(rx.text(r.change, size="1"), max_width="420px"),
        custom_attrs={"data-run-id": r.id},
    )


def run_history_table(rows: rx.Var[list[RunHistoryRow]]) -> rx.Component:
    return rx.cond(
        rows.length() > 0,  # type: ignore[attr-defined]
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in HEADERS])),
            rx.table.body(rx.foreach(rows, _row)),
            width="100%",
            variant="surface",
            aria_label="Run history",
        ),
        rx.text("No runs yet.", size="2", color_scheme="gray"),
    )
