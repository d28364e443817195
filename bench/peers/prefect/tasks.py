"""Prefect 3.9: a flow per run, a task per no-op step; fan8 submits its 8 middle tasks to the
flow's thread pool and waits for them. Flow and task runs are recorded by the API server."""

from __future__ import annotations

from prefect import flow, task


@task
def noop(index: int) -> None:
    return None


@flow
def chain(steps: int) -> None:
    for i in range(steps):
        noop(i)


@flow
def fan(width: int) -> None:
    noop(0)
    futures = [noop.submit(i) for i in range(1, width + 1)]
    for future in futures:
        future.result()
    noop(width + 1)
