"""Pilote's models, one module per layer of `flows` (docs/architecture.md).

Everything is re-exported here: the app label, model names and the callables
the migrations reference by path (`flows.models.new_import_token`) stay put.
"""

from flows.models.case import (
    Case,
    CaseChecklistItem,
    Comment,
    Sequence,
    StatusChange,
    Waiting,
)
from flows.models.flow import (
    MAX_STATUSES,
    MAX_STATUSES_MESSAGE,
    ChecklistItem,
    Flow,
    Status,
    StatusInUse,
    Transition,
)
from flows.models.insights import DiagnosticResult
from flows.models.intake import (
    ImportRun,
    LeadFormSettings,
    new_import_token,
)
from flows.models.outbox import (
    Notification,
    Webhook,
    WebhookDelivery,
    new_webhook_secret,
)
from flows.models.workspace import ReminderLog, UserPreference

__all__ = [
    "MAX_STATUSES",
    "MAX_STATUSES_MESSAGE",
    "Case",
    "CaseChecklistItem",
    "ChecklistItem",
    "Comment",
    "DiagnosticResult",
    "Flow",
    "ImportRun",
    "LeadFormSettings",
    "Notification",
    "ReminderLog",
    "Sequence",
    "Status",
    "StatusChange",
    "StatusInUse",
    "Transition",
    "UserPreference",
    "Waiting",
    "Webhook",
    "WebhookDelivery",
    "new_import_token",
    "new_webhook_secret",
]
