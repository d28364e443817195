"""Step and snapshot functions of the example workflows: importing this package registers them."""

from examples.steps import (
    basic_sequence,
    conditional_workflow,
    data_pipeline,
    memory_first_v2,
    parallel_processing,
)

__all__ = [
    "basic_sequence",
    "conditional_workflow",
    "data_pipeline",
    "memory_first_v2",
    "parallel_processing",
]
