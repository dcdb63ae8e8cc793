"""Recording audit events: the one function every part of Pilote calls."""

from __future__ import annotations

from typing import Any

from audit import context
from audit.models import AuditEvent
from config import clock

CLIENT = "client"
SYSTEM = "system"


def record(
    action: str,
    *,
    user=None,
    actor_label: str = "",
    case=None,
    obj=None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; the acting user, or `actor_label` ("client", "system")."""
    request = context.current()
    if user is not None and getattr(user, "is_authenticated", False):
        label = actor_label or user.get_username()
        actor = user
    else:
        label, actor = actor_label or SYSTEM, None
    return AuditEvent.objects.create(
        at=clock.now(),
        actor=actor,
        actor_label=label,
        action=action,
        case=case,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
        ip=request.ip if request else None,
        user_agent=request.user_agent if request else "",
    )
