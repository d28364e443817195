"""Every table, imported in one place for Alembic and for tests."""

from sqlmodel import SQLModel

from backend.alerts.models import AlertNotice, AlertRule
from backend.auth.models import ApiToken, AuditEntry, Workspace
from backend.automation.models import AutomationCursor
from backend.budgets.models import Budget
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
from backend.notify.models import DeliveryAttempt, NotificationChannel, NotificationDelivery
from backend.schedules.models import Schedule, ScheduleFire
from backend.triggers.models import Trigger, TriggerFire
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
    "Job",
    "JobCount",
    "JobEvent",
    "JobStep",
    "NotificationChannel",
    "NotificationDelivery",
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
