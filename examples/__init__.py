"""The example workflows: definitions in examples/workflows, step functions in examples.steps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WORKFLOWS_DIR = Path(__file__).parent / "workflows"
WORKFLOW_NAMES = (
    "basic_sequence",
    "parallel_processing",
    "conditional_workflow",
    "data_pipeline",
    "memory_first_v2",
)


def workflow_files() -> list[Path]:
    """The definition files of the examples, simplest first."""
    return [WORKFLOWS_DIR / f"{name}.json" for name in WORKFLOW_NAMES]


def load_workflow(name: str) -> dict[str, Any]:
    """The definition document of one example workflow."""
    document: dict[str, Any] = json.loads((WORKFLOWS_DIR / f"{name}.json").read_text())
    return document
