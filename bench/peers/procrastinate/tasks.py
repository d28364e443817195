"""procrastinate 3.10: one job per no-op step. It has no DAG: each step defers the next, and
fan8's middle steps count down in a table of our own; the one that reaches 0 defers the last."""

from __future__ import annotations

import os

from procrastinate import App, PsycopgConnector
from workload import fan_in, successors

app = App(connector=PsycopgConnector(conninfo=os.environ["BENCH_DATABASE_URL"]))
FANIN_TABLE = "CREATE TABLE IF NOT EXISTS bench_fanin (run_id text PRIMARY KEY, remaining int)"


@app.task(name="bench.step")
async def step(run_id: str, shape: str, index: int) -> None:
    nexts = successors(shape, index)
    if nexts and shape == "fan8":
        await app.connector.execute_query_async(
            "INSERT INTO bench_fanin VALUES (%(run_id)s, %(n)s)", run_id=run_id, n=len(nexts)
        )
    last = fan_in(shape, index)
    if last is not None:
        row = await app.connector.execute_query_one_async(
            "UPDATE bench_fanin SET remaining = remaining - 1 WHERE run_id = %(run_id)s"
            " RETURNING remaining",
            run_id=run_id,
        )
        if row["remaining"] == 0:
            nexts = [last]
    for nxt in nexts:
        await step.defer_async(run_id=run_id, shape=shape, index=nxt)
