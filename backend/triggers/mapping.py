"""Input mappings of triggers: each key of the new job's input is a literal value or a JSONPath
(`jsonpath-ng`) into the ended job: `$.input...`, `$.output...`, `$.steps.<key>.output...`,
`$.steps.<key>.status`, `$.job.id|status|error|workflow`."""

from __future__ import annotations

import re
from typing import Any

from jsonpath_ng import parse
from jsonpath_ng.exceptions import JSONPathError

from backend.jobs.rows import JobRow, StepRow

ROOTS = ("input", "output", "steps", "job")
_STEP = re.compile(r"^\$\.steps\.([A-Za-z0-9_-]+)")


def is_path(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def path_problem(path: str, source_steps: set[str]) -> str | None:
    """Why a path is refused (syntax, root, a step the source workflow does not have)."""
    try:
        parse(path)
    except (JSONPathError, Exception) as exc:  # the parser raises plain Exceptions too
        return f"not a JSONPath: {exc}"
    if not any(path == f"$.{r}" or path.startswith((f"$.{r}.", f"$.{r}[")) for r in ROOTS):
        return f"a path starts with one of {', '.join('$.' + r for r in ROOTS)}"
    step = _STEP.match(path)
    if path.startswith("$.steps") and (step is None or step.group(1) not in source_steps):
        return (
            f"the source workflow has no such step (its steps: {', '.join(sorted(source_steps))})"
        )
    return None


def document(job: JobRow, steps: list[StepRow]) -> dict[str, Any]:
    """What the paths read: the ended job and its steps."""
    return {
        "input": job.input_payload or {},
        "output": job.output_payload or {},
        "steps": {s.step_key: {"output": s.output_data, "status": s.status} for s in steps},
        "job": {
            "id": str(job.id),
            "status": job.status,
            "error": job.error_message,
            "workflow": job.workflow_name,
        },
    }


def apply(mapping: dict[str, Any], source: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The mapped input, and the paths that found nothing."""
    mapped: dict[str, Any] = {}
    missing: list[str] = []
    for key, value in mapping.items():
        if not is_path(value):
            mapped[key] = value
            continue
        found = parse(value).find(source)
        if not found:
            missing.append(f"{key}: no value at {value}")
        else:
            mapped[key] = found[0].value if len(found) == 1 else [m.value for m in found]
    return mapped, missing
