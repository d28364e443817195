"""The rows of the API benchmark's database, generated inside PostgreSQL by set-based SQL
(`INSERT ... SELECT ... FROM generate_series`): nothing is built row by row in Python or sent
over the wire, so loading 1M jobs and 5M steps costs the server's time only.

Jobs are spread over 90 days and every status (80 % completed, 10 % failed, 5 % cancelled,
3 % running, 2 % pending), one in every n/1000 on the 50-step workflow `wide`, the rest on 20
five-step workflows. Payloads vary so that the search benchmark has fields of every
selectivity: `input.mode` (3 values), `input.records` (1,000 values), `input.options.level`
(2), `metadata.operator` (4), `output.rows` on completed jobs, four kinds of error (with the
failed step's `error_type`), costs 0-0.5 USD and durations 1-120 s.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

ERRORS = (
    ("ConnectionError", "'connection refused by db-' || (i %% 7)"),
    ("TimeoutError", "'timeout after ' || (i %% 60) || ' s waiting for upstream'"),
    ("KeyError", "'KeyError: customer_' || (i %% 100)"),
    ("RateLimited", "'rate limited by upstream API, retry in ' || (i %% 30) || ' s'"),
)

_JOBS = """
WITH g AS (
    SELECT i,
           CASE WHEN i %% %(big_every)s = 0 AND i / %(big_every)s < %(big_jobs)s
                THEN %(wide)s ELSE i %% %(small)s END AS w,
           random() AS r, random() AS r2, random() AS r3, random() AS r4
    FROM generate_series(0, %(n)s - 1) AS i
), s AS (
    SELECT g.*, wf.id AS workflow_id, wf.version_id, wf.steps,
           CASE WHEN r < 0.80 THEN 'completed' WHEN r < 0.90 THEN 'failed'
                WHEN r < 0.95 THEN 'cancelled' WHEN r < 0.98 THEN 'running'
                ELSE 'pending' END AS status,
           now() - interval '90 days' + (i::float / %(n)s) * interval '90 days'
               + r2 * interval '1 second' AS created
    FROM g JOIN bench_workflows wf ON wf.idx = g.w
), t AS (
    SELECT s.*,
           CASE status WHEN 'completed' THEN steps WHEN 'pending' THEN 0
                ELSE floor(r3 * steps)::int END AS done,
           CASE WHEN status = 'pending' THEN NULL
                ELSE created + (0.01 + r4 * 2) * interval '1 second' END AS started
    FROM s
), u AS (
    SELECT t.*,
           CASE WHEN status IN ('pending', 'running') THEN NULL
                ELSE started + (1 + r2 * 119) * interval '1 second' END AS finished
    FROM t
)
INSERT INTO jobs (id, workspace_id, workflow_id, workflow_version_id, execution_number, status,
                  input_payload, output_payload, error_message, payload_hash, progress,
                  current_step, step_count, steps_done, total_cost, created_at, started_at,
                  completed_at, updated_at, metadata)
SELECT gen_random_uuid(), %(ws)s, workflow_id, version_id,
       row_number() OVER (PARTITION BY w ORDER BY i), status,
       jsonb_build_object(
           'n', i, 'mode', (ARRAY['fast', 'standard', 'thorough'])[1 + i %% 3],
           'records', i %% 1000,
           'options', jsonb_build_object('level', (ARRAY['shallow', 'deep'])[1 + i %% 2],
                                         'batch', i %% 50)),
       CASE WHEN status = 'completed' THEN jsonb_build_object('rows', i %% 5000, 'ok', true) END,
       CASE WHEN status = 'failed' THEN
           'Step ''S' || lpad(done::text, 2, '0') || ''' failed: ' || {error} END,
       md5(i::text), done::float / steps,
       CASE WHEN status = 'running' THEN 'S' || lpad(done::text, 2, '0') END,
       steps, done, round((r4 * 0.5)::numeric, 6), created, started, finished,
       coalesce(finished, created),
       jsonb_build_object('operator', (ARRAY['cli', 'api', 'cron', 'ui'])[1 + i %% 4],
                          'team', 'team-' || (i %% 20))
FROM u ORDER BY i
"""

_STEPS = """
INSERT INTO job_steps (id, job_id, workspace_id, step_key, step_index, name, action, status,
                       params, depends_on, retry, max_attempts, attempt_count, progress,
                       cost_usd, started_at, completed_at, duration_seconds, output_data,
                       error_message, error_type, created_at, updated_at)
SELECT gen_random_uuid(), j.id, j.workspace_id, 's' || lpad(k::text, 2, '0'), k + 1,
       'S' || lpad(k::text, 2, '0'), 'bench.noop', x.state, '{{}}',
       CASE WHEN k = 0 THEN '[]'::jsonb ELSE jsonb_build_array('s' || lpad((k - 1)::text, 2, '0')) END,
       '{{"max_attempts": 1}}', 1, x.ran::int, CASE WHEN x.state = 'completed' THEN 1 ELSE 0 END,
       0.01, CASE WHEN x.ran THEN j.started_at END,
       CASE WHEN x.ran AND x.state <> 'running' THEN j.completed_at END,
       CASE WHEN x.ran AND x.state <> 'running'
            THEN EXTRACT(EPOCH FROM j.completed_at - j.started_at) / j.step_count END,
       CASE WHEN x.state = 'completed' THEN jsonb_build_object('rows', k) END,
       CASE WHEN x.state = 'failed' THEN j.error_message END,
       CASE WHEN x.state = 'failed'
            THEN (ARRAY[{types}])[1 + ((j.input_payload ->> 'n')::int %% 4)] END,
       j.created_at, coalesce(j.completed_at, j.created_at)
FROM jobs j
CROSS JOIN LATERAL generate_series(0, j.step_count - 1) AS k
CROSS JOIN LATERAL (
    SELECT CASE WHEN k < j.steps_done THEN 'completed'
                WHEN k = j.steps_done AND j.status IN ('failed', 'running', 'cancelled')
                    THEN j.status
                WHEN j.status IN ('failed', 'cancelled') THEN 'cancelled'
                ELSE 'pending' END AS state,
           k < j.steps_done
               OR (k = j.steps_done AND j.status IN ('failed', 'running', 'cancelled')) AS ran
) x
WHERE j.workspace_id = %(ws)s
"""


def _error_sql() -> str:
    cases = " ".join(f"WHEN {k} THEN {text}" for k, (_, text) in enumerate(ERRORS))
    return f"(CASE i %% 4 {cases} END)"


def load_rows(
    conn: psycopg.Connection[Any],
    workspace: uuid.UUID,
    workflows: list[dict[str, Any]],
    n: int,
    big_jobs: int,
) -> None:
    """Insert `n` jobs and their steps (the caller commits). `workflows`: the small ones, then
    the wide one last, each {id, version_id, steps}."""
    conn.execute("CREATE TEMP TABLE bench_workflows (idx int, id uuid, version_id uuid, steps int)")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO bench_workflows VALUES (%s, %s, %s, %s)",
            [(i, w["id"], w["version_id"], w["steps"]) for i, w in enumerate(workflows)],
        )
    params = {
        "n": n,
        "ws": workspace,
        "big_every": max(n // big_jobs, 1),
        "big_jobs": big_jobs,
        "wide": len(workflows) - 1,
        "small": len(workflows) - 1,
    }
    conn.execute(_JOBS.format(error=_error_sql()), params)  # type: ignore[arg-type]
    types = ", ".join(f"'{t}'" for t, _ in ERRORS)
    conn.execute(_STEPS.format(types=types), {"ws": workspace})  # type: ignore[arg-type]
