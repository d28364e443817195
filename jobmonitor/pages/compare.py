"""CompareView (`/compare?a=JOB&b=JOB`): two runs side by side — the input diff, each step's
status, attempts, duration and cost with their deltas, metric deltas, output diffs, and the
first divergence highlighted. Run B is picked from recent runs of A's workflow or pasted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx

from apiclient import models as t
from apiclient.errors import ApiError, Unauthorized
from apiclient.format import cost_text as format_cost
from apiclient.format import duration_text as format_duration
from jobmonitor import routes
from jobmonitor.format import short_id
from jobmonitor.pages.shell import page
from jobmonitor.state import client_of, malformed_id, requires_sign_in, signin_redirect


@dataclass
class Candidate:
    id: str = ""
    label: str = ""


@dataclass
class DiffRow:
    where: str = ""  # "input" or the step's key
    path: str = ""
    change: str = ""
    a: str = ""
    b: str = ""


@dataclass
class StepCompareRow:
    key: str = ""
    presence: str = ""
    status_a: str = ""
    status_b: str = ""
    attempts: str = ""
    duration: str = ""
    duration_delta: str = ""
    cost: str = ""
    cost_delta: str = ""
    metrics: str = ""
    output: str = ""
    first: bool = False
    reused: bool = False


class CompareState(rx.State):
    a: str = ""
    b: str = ""
    b_text: str = ""
    candidates: list[Candidate] = []
    summary: str = ""
    diverged: bool = False
    same_version: bool = True
    input_diff: list[DiffRow] = []
    output_diffs: list[DiffRow] = []
    steps: list[StepCompareRow] = []
    error: str = ""
    loading: bool = False

    @rx.event
    @requires_sign_in
    async def load(self) -> AsyncIterator[Any]:
        params = self.router.url.query_parameters
        self.a, self.b = str(params.get("a", "")), str(params.get("b", ""))
        self.b_text, self.error, self.summary, self.steps = self.b, "", "", []
        self.input_diff, self.output_diffs, self.candidates = [], [], []
        if not self.a:
            return
        self.loading = True
        yield
        try:
            client = await client_of(self)
            await self._candidates(client)
            if self.b:
                self._show(await client.compare(self.a, self.b))
        except Unauthorized:
            yield signin_redirect(self.router.url.path)
        except ApiError as exc:
            self.error = "No run with this ID exists." if malformed_id(exc) else exc.message
        self.loading = False

    async def _candidates(self, client: Any) -> None:
        job = await client.get_job(self.a)
        recent = await client.list_jobs(workflow_id=job.workflow_id, limit=20)
        self.candidates = [
            Candidate(j.id, f"{short_id(j.id)} · #{j.execution_number} · {j.status}")
            for j in recent.items
            if j.id != self.a
        ]

    def _show(self, result: t.Comparison) -> None:
        self.summary, self.diverged = result.summary, result.first_divergence is not None
        self.same_version = result.same_version
        self.input_diff = [_diff("input", d) for d in result.input_diff]
        self.output_diffs = [_diff(s.step_key, d) for s in result.steps for d in s.output_diff]
        self.steps = [_step(s, s.step_key == result.first_divergence) for s in result.steps]

    @rx.event
    def set_b_text(self, value: str) -> None:
        self.b_text = value.strip()

    @rx.event
    def compare_with(self) -> rx.event.EventSpec | None:
        b = self.b_text.strip()
        if not b:
            self.error = "Pick or paste run B."
            return None
        return rx.redirect(routes.compare(self.a, b))


def _text(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _diff(where: str, d: t.DiffEntry) -> DiffRow:
    return DiffRow(where, d.path, d.change, _text(d.a), _text(d.b))


def _signed(value: float | None, unit: str = "") -> str:
    return "" if value is None or value == 0 else f"{value:+.2f}{unit}"


def _step(s: t.CompareStep, first: bool) -> StepCompareRow:
    a, b = s.a, s.b
    metrics = ", ".join(f"{m.name} {_signed(m.delta)}" for m in s.metrics if m.delta)
    output = {True: "equal", False: "differs", None: s.presence.replace("_", " ")}[s.output_equal]
    return StepCompareRow(
        key=s.step_key,
        presence=s.presence,
        status_a=a.status if a else "—",
        status_b=b.status if b else "—",
        attempts=f"{a.attempts if a else '—'} | {b.attempts if b else '—'}",
        duration=f"{format_duration(a.duration_seconds) if a else '—'} | "
        f"{format_duration(b.duration_seconds) if b else '—'}",
        duration_delta=_signed(s.duration_delta, " s"),
        cost=f"{format_cost(a.cost_usd) if a else '—'} | {format_cost(b.cost_usd) if b else '—'}",
        cost_delta=_signed(s.cost_delta),
        metrics=metrics,
        output=output,
        first=first,
        reused=bool(b and b.reused_from_job_id),
    )


# view


def _picker() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text("Run A", size="1", color_scheme="gray"),
            rx.link(rx.code(CompareState.a), href="/jobs/" + CompareState.a),
        ),
        rx.vstack(
            rx.el.label("Run B", html_for="compare-b", class_name="jm-label"),
            rx.hstack(
                rx.el.select(
                    rx.el.option("Recent runs of this workflow…", value=""),
                    rx.foreach(
                        CompareState.candidates, lambda c: rx.el.option(c.label, value=c.id)
                    ),
                    aria_label="Pick run B",
                    on_change=CompareState.set_b_text,
                    class_name="jm-native-select",
                ),
                rx.input(
                    id="compare-b",
                    placeholder="or paste a job ID",
                    value=CompareState.b_text,
                    on_change=CompareState.set_b_text,
                    width="320px",
                ),
                rx.button("Compare", on_click=CompareState.compare_with),
                spacing="2",
            ),
        ),
        spacing="6",
        align="end",
        wrap="wrap",
    )


def _diff_table(title: str, rows: rx.Var[list[DiffRow]], with_step: bool) -> rx.Component:
    heads = (["Step"] if with_step else []) + ["Path", "Change", "A", "B"]
    return rx.el.section(
        rx.heading(title, as_="h2", size="3"),
        rx.cond(
            rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
                rx.table.body(
                    rx.foreach(
                        rows,
                        lambda d: rx.table.row(
                            *([rx.table.cell(d.where)] if with_step else []),
                            rx.table.cell(rx.code(d.path)),
                            rx.table.cell(d.change),
                            rx.table.cell(rx.text(d.a, class_name="jm-pre")),
                            rx.table.cell(rx.text(d.b, class_name="jm-pre")),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            rx.text("No differences.", size="2", color_scheme="gray"),
        ),
        aria_label=title,
        class_name="jm-compare-section",
    )


def _step_row(s: rx.Var[StepCompareRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.code(s.key),
                rx.cond(s.first, rx.badge("first divergence", color_scheme="amber")),
                rx.cond(s.reused, rx.badge("reused in B", variant="soft")),
                spacing="2",
            )
        ),
        rx.table.cell(s.status_a + " | " + s.status_b),
        rx.table.cell(s.attempts),
        rx.table.cell(s.duration),
        rx.table.cell(s.duration_delta),
        rx.table.cell(s.cost),
        rx.table.cell(s.cost_delta),
        rx.table.cell(s.metrics),
        rx.table.cell(s.output),
        custom_attrs={"data-step": s.key, "data-first-divergence": s.first.to_string()},
        class_name=rx.cond(s.first, "jm-divergence", ""),
    )


def _steps_table() -> rx.Component:
    heads = ("Step", "Status A | B", "Attempts", "Duration A | B", "Δ", "Cost A | B", "Δ cost")
    return rx.el.section(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in (*heads, "Metric Δ", "Output")]
                )
            ),
            rx.table.body(rx.foreach(CompareState.steps, _step_row)),
            variant="surface",
            width="100%",
        ),
        aria_label="Steps side by side",
        class_name="jm-compare-section",
    )


def _result() -> rx.Component:
    return rx.cond(
        CompareState.summary != "",
        rx.vstack(
            rx.callout.root(
                rx.callout.text(CompareState.summary),
                color_scheme=rx.cond(CompareState.diverged, "amber", "green"),
                role="status",
                aria_label="First divergence",
                width="100%",
            ),
            rx.cond(
                ~CompareState.same_version,
                rx.text("The runs use different workflow versions.", size="2"),
            ),
            _diff_table("Input differences", CompareState.input_diff, with_step=False),
            rx.heading("Steps", as_="h2", size="3"),
            _steps_table(),
            _diff_table("Output differences", CompareState.output_diffs, with_step=True),
            width="100%",
            spacing="4",
        ),
    )


def compare_page() -> rx.Component:
    return page(
        rx.heading("Compare runs", as_="h1", size="6"),
        rx.cond(
            CompareState.a == "",
            rx.text("Open a job and choose Compare with…, or select two jobs in the list."),
            _picker(),
        ),
        rx.cond(
            CompareState.error != "",
            rx.callout.root(
                rx.callout.text(CompareState.error), color_scheme="red", role="alert", width="100%"
            ),
        ),
        rx.cond(CompareState.loading, rx.text("Comparing…", role="status"), _result()),
    )
