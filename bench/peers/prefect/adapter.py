"""Prefect 3.9 with its API server on PostgreSQL (flow and task run rows with their state
history). `adapter.py setup` registers two deployments; `adapter.py session` creates flow runs
from them through the API; `adapter.py worker` executes them in one process, one at a time.

The worker is a minimal in-process runner: it polls the server every 0.1 s for scheduled runs
of the deployments, claims one by proposing Pending (the server lets one claimant win) and
runs Prefect's flow engine on it in the same process, as `prefect.engine` does inside the
subprocess that Prefect's own Runner (`flow.serve`) spawns for every flow run. That spawn
(about 1.5 s of CPU per run on this machine: Runner measured ~3 steps/s and ~5 s per 3-step
run) is left out, which favours Prefect: what is measured is its orchestration per task."""

from __future__ import annotations

import signal
import sys
import threading
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tasks
import workload
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterState,
    TaskRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import Abort
from prefect.flow_engine import run_flow
from prefect.states import Pending
from prefect.utilities.engine import propose_state_sync

RUNS = {
    "chain10": ("chain", {"steps": 10}),
    "fan8": ("fan", {"width": 8}),
    "chain3": ("chain", {"steps": 3}),
}
PAGE = 200


FLOWS = {"chain": tasks.chain, "fan": tasks.fan}


class PrefectAdapter:
    def __init__(self) -> None:
        self.client = get_client(sync_client=True)
        self.client.__enter__()
        self.deployments = {
            name: self.client.read_deployment_by_name(f"{name}/{name}").id for name in FLOWS
        }

    def submit(self, shape: str) -> str:
        name, parameters = RUNS[shape]
        run = self.client.create_flow_run_from_deployment(
            self.deployments[name], parameters=parameters
        )
        return str(run.id)

    def completed(self, run_ids: list[str]) -> dict[str, int]:
        """Flow runs in a COMPLETED state, with their COMPLETED task runs."""
        flow_filter = FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(i) for i in run_ids]))
        done = [
            str(r.id)
            for r in self.client.read_flow_runs(flow_run_filter=flow_filter, limit=len(run_ids))
            if r.state_type == StateType.COMPLETED
        ]
        if not done:
            return {}
        flow_filter = FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(i) for i in done]))
        completed = TaskRunFilter(
            state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.COMPLETED]))
        )
        counts: Counter[str] = Counter()
        offset = 0
        while True:
            page = self.client.read_task_runs(
                flow_run_filter=flow_filter, task_run_filter=completed, limit=PAGE, offset=offset
            )
            counts.update(str(t.flow_run_id) for t in page)
            if len(page) < PAGE:
                break
            offset += PAGE
        return {i: counts[i] for i in done}


def setup() -> None:
    for name, flow in FLOWS.items():
        flow.to_deployment(name=name).apply()


def worker(args: list[str]) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with get_client(sync_client=True) as client:
        flows = {client.read_deployment_by_name(f"{n}/{n}").id: f for n, f in FLOWS.items()}
        while not stop.is_set():
            runs = client.get_scheduled_flow_runs_for_deployments(list(flows), limit=1)
            if not runs:
                stop.wait(0.1)
                continue
            run = runs[0]
            try:
                state = propose_state_sync(client, Pending(), flow_run_id=run.id)
            except Abort:  # another worker claimed it
                continue
            if state.is_pending():
                assert run.deployment_id is not None
                run_flow(flows[run.deployment_id], flow_run=run, parameters=run.parameters)


if __name__ == "__main__":
    workload.main(PrefectAdapter, worker, setup)
