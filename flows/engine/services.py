"""Use cases that change cases: one transaction each, audited.

Every status change in Pilote goes through `move_case`, whatever the entry
point (board, case page, admin, import, public quote page, command).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from audit import services as audit
from config import clock
from flows import access
from flows.engine import graph, guards, normalize, selectors, sequences
from flows.engine.checklists import checklist_state
from flows.models import (
    Case,
    CaseChecklistItem,
    ChecklistItem,
    Comment,
    Flow,
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


class ActionRefused(PermissionDenied):
    """The user may not do this to this case (answered 403, audited)."""


def _actor(user, actor_label: str = "") -> str:
    if user is not None:
        return user.get_username()
    return actor_label or audit.SYSTEM


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
                failures = [
                    guards.GuardFailure(
                        guards.STALE,
                        _(
                            "Ce dossier vient de changer de statut : rechargez-le avant d'agir."
                        ),
                    )
                ]
                transaction.set_rollback(True)
            else:
                case.refresh_from_db()
                return change
    # Outside the atomic block: the refusal is recorded even though nothing
    # else was written.
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
    raise TransitionBlocked(failures)


def _planned_next_action(next_action: str | None, next_action_due: date | None) -> dict:
    planned: dict = {}
    if next_action is not None and next_action.strip():
        planned["next_action"] = next_action.strip()
    if next_action_due is not None:
        planned["next_action_due"] = next_action_due
    return planned


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
    # A move ends any wait on the client: the time already waited is the
    # client time of the status left; the planned rest is not.
    waited = selectors.client_time(case, now)
    if case.waiting_until is not None and case.waiting_until > timezone.localdate(now):
        Waiting.objects.filter(
            case=case, ended_at__isnull=True, until__gt=timezone.localdate(now)
        ).update(ended_at=now, ended_by=user)
    case.waiting_until, case.waiting_reason = None, ""
    case.waiting_in_status = timedelta(0)
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
        actor_label=_actor(user, actor_label) if user is None else "",
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
        case, transition, actor=_actor(user, actor_label), reason=reason, at=now
    )
    return change


def _history_reason(transition: Transition, reason: str, overridden: bool) -> str:
    text = f"{transition.source.code} → {transition.target.code}"
    if overridden:
        text += " (forçage)"
    if reason:
        text += f" : {reason}"
    return text


def create_case(
    *, flow: Flow, user, owner=None, actor_label: str = "", **fields
) -> Case:
    """Create a case in the flow's initial status, with its reference.

    Raises ValidationError when the fields are invalid (a flow that requires
    next actions wants `next_action` and `next_action_due`) or the flow has no
    initial status.
    """
    fields = _normalized(fields)
    initial = flow.initial_status()
    if initial is None:
        raise ValidationError(_("Le flux n'a pas de statut initial (position 1)."))
    with transaction.atomic():
        now = clock.now()
        case = Case(
            flow=flow,
            status=initial.code,
            owner=owner,
            created_by=user,
            status_entered_at=now,
            created_at=now,
            **fields,
        )
        errors: dict = {}
        try:
            case.full_clean(exclude=["status", "reference"])
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if flow.require_next_action and initial.kind == Status.Kind.OPEN:
            for name, messages in next_action_errors(case).items():
                errors.setdefault(name, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        year = timezone.localtime(now).year
        number = sequences.next_value(f"case-{year}")
        case.reference = f"{year}-{number:04d}"
        case._history_user = user
        clock.stamp_history(case)
        case._change_reason = "created"
        case.save()
        StatusChange.objects.create(
            case=case,
            from_status=None,
            to_status=initial,
            at=now,
            by=user,
            actor_label=_actor(user, actor_label) if user is None else "",
        )
        audit.record(
            "case_created",
            user=user,
            actor_label=actor_label,
            case=case,
            obj=case,
            data={"reference": case.reference, "title": case.title},
        )
        webhooks.case_created(case, status=initial)
    return case


def create_cases_bulk(
    cases: list[Case],
    *,
    status: Status,
    user,
    reason: str = "import",
    hooks: list | None = None,
) -> list[int]:
    """Insert validated cases in `status`: references, history, entry rows.

    The import's path (thousands of rows): call it batch by batch inside the
    import's transaction. Each case was built with `status=status.code` (set
    at construction: bulk inserts skip save(), hence the FSM, so the status
    is never assigned) and validated by the caller; its `owner` is an object
    or None. References come from one block of the sequence, so they stay
    gap-free. Writes no audit event (the import records one for the file)
    and queues `case.created` for `hooks` without sending: the caller
    dispatches after its commit. Returns the queued delivery ids.
    """
    from simple_history.utils import bulk_create_with_history

    if not cases:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "create_cases_bulk() must run inside the import's transaction"
        )
    if any(case.status != status.code for case in cases):
        raise ValueError("every case must be built in the given status")
    now = clock.now()
    year = timezone.localtime(now).year
    numbers = sequences.next_values(f"case-{year}", len(cases))
    for case, number in zip(cases, numbers, strict=True):
        case.reference = f"{year}-{number:04d}"
        case.created_by = user
        case.created_at = case.status_entered_at = now
        case.closed_at = now if status.is_closed else None
    created = bulk_create_with_history(
        cases,
        Case,
        batch_size=len(cases),
        default_user=user,
        default_change_reason=reason,
        default_date=now,
    )
    StatusChange.objects.bulk_create(
        [
            StatusChange(
                case_id=case.pk,
                from_status=None,
                to_status=status,
                at=now,
                by=user,
                actor_label=_actor(user, "") if user is None else "",
                reason=reason,
            )
            for case in created
        ],
        batch_size=len(created),
    )
    if not hooks:
        return []
    return webhooks.queue(
        [
            (webhooks.Event.CASE_CREATED, {"case": webhooks.case_data(case, status)})
            for case in created
        ],
        hooks=hooks,
        dispatch=False,
    )


def next_action_errors(case: Case) -> dict[str, list[str]]:
    """What is missing for `case` to carry a next action and its due date."""
    errors: dict[str, list[str]] = {}
    if not (case.next_action or "").strip():
        errors["next_action"] = [
            _(
                "Indiquez la prochaine action : un dossier en cours a toujours une suite."
            )
        ]
    if case.next_action_due is None:
        errors["next_action_due"] = [_("Indiquez l'échéance de la prochaine action.")]
    return errors


def check_can_act(case: Case, *, user, action: str) -> None:
    """Raise ActionRefused (and audit it) when `user` may not act on `case`."""
    if not access.can_act_on(user, case):
        audit.record(
            "permission_denied",
            user=user,
            case=case,
            data={"action": action},
        )
        raise ActionRefused(
            _("Vous ne pouvez agir que sur vos dossiers et les dossiers non attribués.")
        )


def set_checklist_item(
    case: Case, item: ChecklistItem, *, user, done: bool, note: str = ""
) -> CaseChecklistItem:
    """Tick or untick a manual item; raise ActionRefused or ValidationError."""
    check_can_act(case, user=user, action="checklist")
    if item.is_automatic:
        raise ValidationError(
            _("Cet élément se coche tout seul quand la condition est remplie.")
        )
    if item.status.flow_id != case.flow_id:
        raise ValidationError(_("Cet élément n'appartient pas au flux du dossier."))
    with transaction.atomic():
        state = (
            CaseChecklistItem.objects.select_for_update()
            .filter(case=case, item=item)
            .first()
        )
        if state is None:
            state = CaseChecklistItem(case=case, item=item)
        elif state.done == done and state.note == note:
            return state
        state.done = done
        state.done_by = user if done else None
        state.done_at = clock.now() if done else None
        state.note = note
        state._history_user = user
        clock.stamp_history(state)
        state.save()
        audit.record(
            "checklist_ticked" if done else "checklist_unticked",
            user=user,
            case=case,
            obj=item,
            data={"item": item.label, "note": note},
        )
    return state


def add_comment(case: Case, *, user, body: str, actor_label: str = "") -> Comment:
    """Add a comment; any team member may comment on any case.

    `user=None` with an `actor_label` ("client": the public lead form) adds
    a comment without an author; it mentions nobody. Raises ActionRefused
    or ValidationError.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Le commentaire est vide."))
    if user is None and not actor_label:
        raise ActionRefused(_("Seuls les membres de l'équipe peuvent commenter."))
    if user is not None and not access.is_member(user):
        raise ActionRefused(_("Seuls les membres de l'équipe peuvent commenter."))
    with transaction.atomic():
        comment = Comment.objects.create(
            case=case, author=user, body=body, created_at=clock.now()
        )
        audit.record(
            "comment_added",
            user=user,
            actor_label=actor_label,
            case=case,
            obj=comment,
            data={},
        )
        if user is not None:
            notifications.notify_mentions(
                case, body=body, author=user, comment_id=comment.pk
            )
    return comment


@transaction.atomic
def activate_flow(flow: Flow, *, user) -> Flow:
    """Make `flow` the active one; raise ValidationError listing every problem."""
    problems = graph.activation_problems(flow)
    if problems:
        raise ValidationError(problems)
    for previous in Flow.objects.filter(is_active=True).exclude(pk=flow.pk):
        previous.is_active = False
        previous._history_user = user
        previous.save()
    flow.is_active = True
    flow._history_user = user
    flow.save()
    audit.record("flow_activated", user=user, obj=flow, data={"flow": flow.slug})
    return flow


# --- Editing details ------------------------------------------------------------

EDITABLE_FIELDS = (
    "title",
    "company",
    "contact_name",
    "email",
    "phone",
    "source",
    "amount",
    "next_action",
    "next_action_due",
    "meeting_at",
)


class CaseChanged(Exception):
    """Someone saved the case since the user loaded it; nothing was written."""

    def __init__(self, case: Case, by: str, at):
        self.case, self.by, self.at = case, by, at
        super().__init__(f"{case.reference} changed by {by} at {at}")


def _normalized(fields: dict) -> dict:
    fields = dict(fields)
    if "email" in fields:
        fields["email"] = normalize.email(fields["email"])
    if "phone" in fields:
        try:
            fields["phone"] = normalize.phone(fields["phone"])
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from error
    for name in ("title", "company", "contact_name", "source", "next_action"):
        if isinstance(fields.get(name), str):
            fields[name] = fields[name].strip()
    return fields


def last_change(case: Case) -> tuple[str, object]:
    """Who saved `case` last, and when (from its history)."""
    record = case.history.select_related("history_user").first()
    if record is None:
        return "", case.updated_at
    who = record.history_user
    name = access.display_name(who, _("le système"))
    return name, record.history_date


def update_case(
    case: Case, *, user, changes: dict, expected_version: int | None = None
) -> Case:
    """Save edited details; raise CaseChanged, ActionRefused or ValidationError.

    `expected_version` is the version the user loaded: a save on top of
    someone else's is refused instead of silently overwriting it.
    """
    check_can_act(case, user=user, action="update")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    changes = _normalized(changes)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and locked.version != expected_version:
            by, at = last_change(locked)
            raise CaseChanged(locked, by, at)
        changed = [
            name for name, value in changes.items() if getattr(locked, name) != value
        ]
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, changes[name])
        locked.full_clean(exclude=["status", "reference"])
        # Clearing the next step of an open case is refused; a case without
        # one from before the rule may still be edited.
        missing = {
            name: messages
            for name, messages in next_action_errors(locked).items()
            if name in changed
        }
        if missing and _requires_next_action(locked):
            raise ValidationError(missing)
        locked.version += 1
        locked._history_user = user
        clock.stamp_history(locked)
        locked.save()
        audit.record(
            "case_updated",
            user=user,
            case=locked,
            obj=locked,
            data={"fields": sorted(changed)},
        )
    case.refresh_from_db()
    return case


def assign_case(case: Case, *, user, owner) -> Case:
    """Change the owner: managers for any case; a member takes an unassigned one."""
    allowed = access.is_manager(user) or (
        access.is_member(user) and case.owner_id is None and owner == user
    )
    if not allowed:
        audit.record(
            "permission_denied", user=user, case=case, data={"action": "assign"}
        )
        raise ActionRefused(
            _(
                "Seul un responsable réattribue un dossier ; un membre peut prendre un dossier libre."
            )
        )
    if owner is not None and not access.is_member(owner):
        raise ValidationError(
            _("Le responsable du dossier doit être un membre de l'équipe.")
        )
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.owner_id == (owner.pk if owner else None):
            return locked
        previous = locked.owner
        locked.owner = owner
        locked.version += 1
        locked._history_user = user
        clock.stamp_history(locked)
        locked.save()
        audit.record(
            "owner_changed",
            user=user,
            case=locked,
            obj=locked,
            data={
                "from": previous.get_username() if previous else None,
                "to": owner.get_username() if owner else None,
            },
        )
        notifications.notify_assigned(locked, owner=owner, by=user)
    case.refresh_from_db()
    return case


def _requires_next_action(case: Case) -> bool:
    """True when `case` is in an open status of a flow that requires next actions."""
    return Status.objects.filter(
        flow_id=case.flow_id,
        code=case.status,
        kind=Status.Kind.OPEN,
        flow__require_next_action=True,
    ).exists()


# --- Next actions and waiting on the client --------------------------------------


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
        if errors and _requires_next_action(locked):
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
