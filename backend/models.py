"""Every table, imported in one place for Alembic and for tests."""

from sqlmodel import SQLModel

from backend.auth.models import ApiToken, AuditEntry, Workspace
from backend.failures.models import FailureDay, FailureGroup
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
from backend.views.models import SavedView
from backend.workflows.models import Workflow, WorkflowVersion

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "FailureDay",
    "FailureGroup",
    "Job",
    "JobCount",
    "JobEvent",
    "JobStep",
    "ReaperPass",
    "Review",
    "ReviewItem",
    "SavedView",
    "StepAttempt",
    "StepCost",
    "StepLog",
    "StepMetric",
    "Workflow",
    "WorkflowVersion",
    "Workspace",
    "metadata",
]
