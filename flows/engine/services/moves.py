"""Moving a case: the one path for every status change (DESIGN §4)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from audit import services as audit
from config import clock
from flows import access
from flows.engine import guards, selectors
from flows.engine.checklists import checklist_state
from flows.models import (
    Case,
    Status,
    StatusChange,
    Transition,
    Waiting,
)
from flows.outbox import notifications, webhooks


class TransitionBlocked(Exception):
    """A move was refused; `.failures` lists every unmet guard."""

    def __init__(self, failures: list[guards.GuardFailure]):
        self.failures = failures
        super().__init__("; ".join(failure.message for failure in failures))

    @property
    def codes(self) -> list[str]:
        return [failure.code for failure in self.failures]


# One piece on purpose: the lock, the guards and the move share one
# transaction, and reading them in order is how the rule is checked.
def move_case(
    case: Case,
    target_code: str,
    *,
    user,
    reason: str = "",
    expected_status: str | None = None,
    override: bool = False,
    actor_label: str = "",
    next_action: str | None = None,
    next_action_due: date | None = None,
) -> StatusChange:
    """Move `case` to `target_code`; raise TransitionBlocked listing every unmet guard.

    `user=None` means the client or the system acts (`actor_label` says which).
    `next_action` / `next_action_due`, when given, replace the case's next
    action in the same transaction (a move forward usually means the old one
    is done); the `next_action` guard sees them. On success `case` is
    reloaded in place.
    """
    reason = (reason or "").strip()
    planned = _planned_next_action(next_action, next_action_due)
    with transaction.atomic():
        # The row lock serialises concurrent moves on PostgreSQL; SQLite's
        # IMMEDIATE transactions serialise writers already. The flow comes
        # along for the next-action guard (the lock stays on the case row).
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("flow")
            .get(pk=case.pk)
        )
        for name, value in planned.items():
            setattr(locked, name, value)
        transition = guards.find_transition(locked, target_code)
        failures = guards.evaluate(
            locked,
            target_code,
            user=user,
            reason=reason,
            expected_status=expected_status,
            override=override,
            transition=transition,
        )
        if not failures:
            try:
                change = _apply_move(
                    locked,
                    transition,
                    user=user,
                    reason=reason,
                    override=override,
                    actor_label=actor_label,
                    planned=planned,
                )
            except ConcurrentTransition:
                failures = [guards.stale_failure()]
                transaction.set_rollback(True)
            else:
                case.refresh_from_db()
                return change
    # Outside the atomic block: the refusal is recorded even though nothing
    # else was written.
    _record_refusal(
        case,
        target_code,
        failures,
        user=user,
        actor_label=actor_label,
        override=override,
        reason=reason,
    )
    raise TransitionBlocked(failures)


def _record_refusal(
    case: Case,
    target_code: str,
    failures: list[guards.GuardFailure],
    *,
    user,
    actor_label: str,
    override: bool,
    reason: str,
) -> None:
    """The `transition_blocked` event, and the owner told (unless only stale)."""
    audit.record(
        "transition_blocked",
        user=user,
        actor_label=actor_label,
        case=case,
        data={
            "from": case.status,
            "to": target_code,
            "failures": [failure.code for failure in failures],
            "messages": [failure.message for failure in failures],
            "override": override,
            "reason": reason,
        },
    )
    if any(failure.code != guards.STALE for failure in failures):
        target_label = (
            Status.objects.filter(flow_id=case.flow_id, code=target_code)
            .values_list("label", flat=True)
            .first()
        )
        notifications.notify_move_blocked(
            case,
            user=user,
            target_label=target_label or target_code,
            messages=[failure.message for failure in failures],
        )


def _planned_next_action(next_action: str | None, next_action_due: date | None) -> dict:
    planned: dict = {}
    if next_action is not None and next_action.strip():
        planned["next_action"] = next_action.strip()
    if next_action_due is not None:
        planned["next_action_due"] = next_action_due
    return planned


# One piece on purpose: every write of a move, in the order the history,
# the StatusChange row, the audit event and the webhook must see them.
def _apply_move(
    case: Case,
    transition: Transition,
    *,
    user,
    reason: str,
    override: bool,
    actor_label: str,
    planned: dict | None = None,
) -> StatusChange:
    # An override is recorded only when it was needed: a manager asking for
    # one on a complete checklist made an ordinary move.
    overridden = bool(
        override
        and transition.enforce_checklist
        and any(entry.blocks for entry in checklist_state(case, transition.source))
    )
    now = clock.now()
    time_in_previous = now - case.status_entered_at
    waited = _end_waiting(case, user=user, now=now)
    case.move_to(transition)
    case.status_entered_at = now
    if case.first_response_at is None:
        case.first_response_at = now
    if planned:
        # The next action is also a detail of the case: an edit form opened
        # before this move must not silently bring the old one back.
        case.version += 1
    target = transition.target
    case.closed_at = now if target.is_closed else None
    if target.kind == Status.Kind.LOST and reason:
        case.lost_reason = reason
    case._history_user = user
    clock.stamp_history(case)
    case._change_reason = _history_reason(transition, reason, overridden)
    case.save()
    change = StatusChange.objects.create(
        case=case,
        from_status=transition.source,
        to_status=target,
        at=now,
        by=user,
        actor_label=access.actor_name(user, actor_label) if user is None else "",
        reason=reason,
        override=overridden,
        time_in_previous=time_in_previous,
        waiting_in_previous=min(waited, time_in_previous),
    )
    audit.record(
        "transition_override" if overridden else "transition",
        user=user,
        actor_label=actor_label,
        case=case,
        obj=change,
        data={
            "from": transition.source.code,
            "to": target.code,
            "reason": reason,
            "override": overridden,
        }
        | ({"next_action": planned.get("next_action", "")} if planned else {}),
    )
    # Queued in this transaction, sent after the commit (never on rollback).
    webhooks.case_moved(
        case,
        transition,
        actor=access.actor_name(user, actor_label),
        reason=reason,
        at=now,
    )
    return change


def _end_waiting(case: Case, *, user, now) -> timedelta:
    """A move ends any wait on the client; return the client time waited.

    The time already waited is the client time of the status left; the
    planned rest is not.
    """
    waited = selectors.client_time(case, now)
    if case.waiting_until is not None and case.waiting_until > timezone.localdate(now):
        Waiting.objects.filter(
            case=case, ended_at__isnull=True, until__gt=timezone.localdate(now)
        ).update(ended_at=now, ended_by=user)
    case.waiting_until, case.waiting_reason = None, ""
    case.waiting_in_status = timedelta(0)
    return waited


def _history_reason(transition: Transition, reason: str, overridden: bool) -> str:
    text = f"{transition.source.code} → {transition.target.code}"
    if overridden:
        text += " (forçage)"
    if reason:
        text += f" : {reason}"
    return text
