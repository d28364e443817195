"""The runs grid (Airflow's grid view): one column per recent run, one row per step, each
cell coloured by the step's status in that run and linking to that step of that run."""

from __future__ import annotations

import reflex as rx

from jobmonitor.components.status_badge import status_color
from jobmonitor.runs_grid import GRID_SIZES, GridCellView, GridColumn, GridRowView

CELL = "20px"


def _swatch(status: rx.Var[str], **style: str) -> rx.Component:
    return rx.box(
        style={
            "width": CELL,
            "height": CELL,
            "borderRadius": "3px",
            "background": "var(--" + status_color(status) + "-9)",
            **style,
        }
    )


def _column_head(col: rx.Var[GridColumn]) -> rx.Component:
    return rx.el.th(
        rx.link(
            rx.vstack(
                rx.text(
                    col.label,
                    size="1",
                    color_scheme="gray",
                    style={"writingMode": "vertical-rl", "transform": "rotate(180deg)"},
                ),
                _swatch(col.status, height="6px"),
                spacing="1",
                align="center",
            ),
            href=col.href,
            title=col.title,
            aria_label=col.title,
            underline="none",
        ),
        scope="col",
        style={"padding": "0 1px", "verticalAlign": "bottom", "fontWeight": "normal"},
    )


def _cell(cell: rx.Var[GridCellView]) -> rx.Component:
    return rx.el.td(
        rx.cond(
            cell.status != "",
            rx.link(
                _swatch(cell.status),
                href=cell.href,
                title=cell.title,
                aria_label=cell.title,
                data_status=cell.status,
                class_name="jm-grid-cell",
                display="block",
            ),
            rx.box(
                title=cell.title,
                style={
                    "width": CELL,
                    "height": CELL,
                    "borderRadius": "3px",
                    "border": "1px dashed var(--gray-a6)",
                },
            ),
        ),
        style={"padding": "1px"},
    )


def _row(row: rx.Var[GridRowView]) -> rx.Component:
    return rx.el.tr(
        rx.el.th(
            rx.text(row.name, size="1", trim="both", truncate=True, title=row.key),
            scope="row",
            style={
                "textAlign": "left",
                "fontWeight": "normal",
                "paddingRight": "12px",
                "maxWidth": "220px",
                "position": "sticky",
                "left": 0,
                "background": "var(--color-panel-solid)",
            },
        ),
        rx.foreach(row.cells, _cell),
        aria_label="Step " + row.name,
    )


def _legend() -> rx.Component:
    return rx.hstack(
        rx.foreach(
            rx.Var.create(
                ["completed", "failed", "running", "retrying", "queued", "skipped", "cancelled"]
            ),
            lambda s: rx.hstack(
                _swatch(s, width="10px", height="10px"),
                rx.text(s, size="1", color_scheme="gray"),
                spacing="1",
                align="center",
            ),
        ),
        spacing="3",
        wrap="wrap",
    )


def runs_grid(
    columns: rx.Var[list[GridColumn]],
    rows: rx.Var[list[GridRowView]],
    size: rx.Var[str],
    on_size: rx.EventHandler,
) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(
                "Last " + columns.length().to_string() + " run(s), oldest left; a cell opens that"
                " step of that run.",
                size="1",
                color_scheme="gray",
            ),
            rx.spacer(),
            rx.text("Runs", size="1", color_scheme="gray"),
            rx.select(
                GRID_SIZES,
                value=size,
                on_change=on_size,
                size="1",
                aria_label="Runs shown",
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            columns.length() > 0,
            rx.box(
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th(rx.text("Step", size="1", color_scheme="gray"), scope="col"),
                            rx.foreach(columns, _column_head),
                        )
                    ),
                    rx.el.tbody(rx.foreach(rows, _row)),
                    style={"borderCollapse": "separate", "borderSpacing": "0"},
                    aria_label="Runs grid",
                ),
                style={"overflowX": "auto", "width": "100%"},
            ),
            rx.text("No runs yet.", size="2", color_scheme="gray"),
        ),
        _legend(),
        width="100%",
        spacing="2",
    )
