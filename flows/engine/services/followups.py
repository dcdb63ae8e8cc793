"""Follow-ups: the next action of a case and waiting on the client."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock
from flows.engine import selectors
from flows.engine.services.cases import (
    check_can_act,
    next_action_errors,
    requires_next_action,
)
from flows.models import (
    Case,
    Status,
    Waiting,
)


def complete_next_action(
    case: Case,
    *,
    user,
    next_action: str,
    next_action_due: date | None,
) -> Case:
    """Mark the current next action done and plan the next one.

    The first completion answers a new lead (insights: first response).
    Raises ActionRefused, or ValidationError when an open case of a flow
    that requires next actions would be left without one.
    """
    check_can_act(case, user=user, action="next_action")
    next_action = (next_action or "").strip()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        done = locked.next_action
        locked.next_action, locked.next_action_due = next_action, next_action_due
        errors = next_action_errors(locked)
        if errors and requires_next_action(locked):
            raise ValidationError(errors)
        locked.full_clean(exclude=["status", "reference"])
        now = clock.now()
        if locked.first_response_at is None:
            locked.first_response_at = now
        locked.version += 1
        locked._history_user = user
        clock.stamp_history(locked)
        locked._change_reason = "next action done"
        locked.save()
        audit.record(
            "next_action_done",
            user=user,
            case=locked,
            obj=locked,
            data={
                "done": done,
                "next": next_action,
                "due": next_action_due.isoformat() if next_action_due else None,
            },
        )
    case.refresh_from_db()
    return case


def start_waiting(case: Case, *, user, reason: str, until: date) -> Case:
    """Mark `case` as waiting on the client until `until` (a later day).

    Until then the case is not stale and stays out of the follow-up lists;
    on that day it comes back by itself. Starting a new wait ends the
    current one. Raises ActionRefused or ValidationError.
    """
    check_can_act(case, user=user, action="waiting")
    reason = (reason or "").strip()
    today = clock.today()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Indiquez ce que vous attendez du client.")]
    if until is None or until <= today:
        errors["until"] = [_("La date de retour doit être postérieure à aujourd'hui.")]
    elif until > today + timedelta(days=366):
        errors["until"] = [_("Une attente dure au plus un an.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.closed_at is not None:
            raise ValidationError(
                _("Ce dossier est clos : il n'attend plus rien du client.")
            )
        now = clock.now()
        _stop_waiting(locked, user=user, now=now)
        status = Status.objects.get(flow_id=locked.flow_id, code=locked.status)
        locked.waiting_until = until
        locked.waiting_reason = reason[:200]
        # The whole planned wait is credited now; ending early takes the
        # unused part back (see _stop_waiting).
        locked.waiting_in_status += max(
            selectors.waiting_back_at(until) - now, timedelta(0)
        )
        Waiting.objects.create(
            case=locked,
            status=status,
            reason=reason[:200],
            until=until,
            started_at=now,
            started_by=user,
        )
        locked.version += 1
        locked._history_user = user
        clock.stamp_history(locked)
        locked._change_reason = "waiting"
        locked.save()
        audit.record(
            "waiting_started",
            user=user,
            case=locked,
            obj=locked,
            data={"reason": reason, "until": until.isoformat()},
        )
    case.refresh_from_db()
    return case


def end_waiting(case: Case, *, user) -> Case:
    """End the current wait on the client now (the client came back early).

    Does nothing when the case is not waiting. Raises ActionRefused.
    """
    check_can_act(case, user=user, action="waiting")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        now = clock.now()
        active = (
            locked.waiting_until is not None
            and locked.waiting_until > timezone.localdate(now)
        )
        if not active:
            return locked
        until = locked.waiting_until
        _stop_waiting(locked, user=user, now=now)
        locked.version += 1
        locked._history_user = user
        clock.stamp_history(locked)
        locked._change_reason = "waiting ended"
        locked.save()
        audit.record(
            "waiting_ended",
            user=user,
            case=locked,
            obj=locked,
            data={"until": until.isoformat()},
        )
    case.refresh_from_db()
    return case


def _stop_waiting(case: Case, *, user, now) -> None:
    """End an active wait at `now` (in memory, plus its Waiting row)."""
    if case.waiting_until is None:
        return
    today = timezone.localdate(now)
    if case.waiting_until > today:
        unused = selectors.waiting_back_at(case.waiting_until) - now
        case.waiting_in_status = max(
            case.waiting_in_status - max(unused, timedelta(0)), timedelta(0)
        )
        Waiting.objects.filter(
            case=case, ended_at__isnull=True, until__gt=today
        ).update(ended_at=now, ended_by=user)
    case.waiting_until, case.waiting_reason = None, ""
