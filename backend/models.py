"""Every table, imported in one place for Alembic and for tests."""

from sqlmodel import SQLModel

from backend.alerts.models import AlertNotice, AlertRule
from backend.auth.models import ApiToken, AuditEntry, Workspace
from backend.automation.models import AutomationCursor
from backend.budgets.models import Budget
from backend.continuous.models import ContinuousWorkflow
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
from backend.notify.models import DeliveryAttempt, NotificationChannel, NotificationDelivery
from backend.reviews.models import Review, ReviewItem
from backend.schedules.models import Schedule, ScheduleFire
from backend.triggers.models import Trigger, TriggerFire
from backend.views.models import SavedView
from backend.workflows.models import Workflow, WorkflowVersion

metadata = SQLModel.metadata

__all__ = [
    "AlertNotice",
    "AlertRule",
    "ApiToken",
    "AuditEntry",
    "AutomationCursor",
    "Budget",
    "ContinuousWorkflow",
    "DeliveryAttempt",
    "FailureDay",
    "FailureGroup",
    "Job",
    "JobCount",
    "JobEvent",
    "JobStep",
    "NotificationChannel",
    "NotificationDelivery",
    "ReaperPass",
    "Review",
    "ReviewItem",
    "SavedView",
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
