"""Every table, imported in one place for Alembic and for tests."""

from sqlmodel import SQLModel

from backend.auth.models import ApiToken, AuditEntry, Workspace
from backend.jobs.models import (
    Job,
    JobCount,
    JobEvent,
    JobStep,
    ReaperPass,
    StepAttempt,
    StepCost,
    StepLog,
    StepMetric,
)
from backend.reviews.models import Review, ReviewItem
from backend.workflows.models import Workflow, WorkflowVersion

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Job",
    "JobCount",
    "JobEvent",
    "JobStep",
    "ReaperPass",
    "Review",
    "ReviewItem",
    "StepAttempt",
    "StepCost",
    "StepLog",
    "StepMetric",
    "Workflow",
    "WorkflowVersion",
    "Workspace",
    "metadata",
]
