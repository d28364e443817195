"""Every table, imported in one place for Alembic and for tests."""

from sqlmodel import SQLModel

from backend.auth.models import ApiToken, AuditEntry, Workspace
from backend.automation.models import AutomationCursor
from backend.continuous.models import ContinuousWorkflow
from backend.jobs.models import (
    Job,
    JobCount,
    JobEvent,
    JobStep,
    StepAttempt,
    StepCost,
    StepLog,
    StepMetric,
)
from backend.schedules.models import Schedule, ScheduleFire
from backend.triggers.models import Trigger, TriggerFire
from backend.workflows.models import Workflow, WorkflowVersion

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AutomationCursor",
    "ContinuousWorkflow",
    "Job",
    "JobCount",
    "JobEvent",
    "JobStep",
    "Schedule",
    "ScheduleFire",
    "StepAttempt",
    "StepCost",
    "StepLog",
    "StepMetric",
    "Trigger",
    "TriggerFire",
    "Workflow",
    "WorkflowVersion",
    "Workspace",
    "metadata",
]
