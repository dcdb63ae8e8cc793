"""Use cases that change cases: one transaction each, audited.

Every status change in Pilote goes through `move_case`, whatever the entry
point (board, case page, admin, import, public quote page, command).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from audit import services as audit
from config import clock
from flows import guards, normalize, roles, sequences
from flows.models import (
    Case,
    CaseChecklistItem,
    ChecklistItem,
    Comment,
    Flow,
    Status,
    StatusChange,
    Transition,
)


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
) -> StatusChange:
    """Move `case` to `target_code`; raise TransitionBlocked listing every unmet guard.

    `user=None` means the client or the system acts (`actor_label` says which).
    On success `case` is reloaded in place.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        # The row lock serialises concurrent moves on PostgreSQL; SQLite's
        # IMMEDIATE transactions serialise writers already.
        locked = Case.objects.select_for_update().get(pk=case.pk)
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
    raise TransitionBlocked(failures)


def _apply_move(
    case: Case,
    transition: Transition,
    *,
    user,
    reason: str,
    override: bool,
    actor_label: str,
) -> StatusChange:
    # An override is recorded only when it was needed: a manager asking for
    # one on a complete checklist made an ordinary move.
    overridden = bool(
        override
        and transition.enforce_checklist
        and any(entry.blocks for entry in _checklist(case, transition.source))
    )
    now = clock.now()
    time_in_previous = now - case.status_entered_at
    case.move_to(transition)
    case.status_entered_at = now
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
        },
    )
    return change


def _checklist(case: Case, status: Status):
    from flows.checklists import checklist_state

    return checklist_state(case, status)


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

    Raises ValidationError when the fields are invalid or the flow has no
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
        case.full_clean(exclude=["status", "reference"])
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
    return case


def check_can_act(case: Case, *, user, action: str) -> None:
    """Raise ActionRefused (and audit it) when `user` may not act on `case`."""
    if not guards.can_act_on(user, case):
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


def add_comment(case: Case, *, user, body: str) -> Comment:
    """Add a comment; any team member may comment on any case."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Le commentaire est vide."))
    if not roles.is_member(user):
        raise ActionRefused(_("Seuls les membres de l'équipe peuvent commenter."))
    with transaction.atomic():
        comment = Comment.objects.create(
            case=case, author=user, body=body, created_at=clock.now()
        )
        audit.record("comment_added", user=user, case=case, obj=comment, data={})
    return comment


@transaction.atomic
def activate_flow(flow: Flow, *, user) -> Flow:
    """Make `flow` the active one; raise ValidationError listing every problem."""
    problems = flow.activation_problems()
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
    name = (who.get_full_name() or who.get_username()) if who else _("le système")
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
    allowed = roles.is_manager(user) or (
        roles.is_member(user) and case.owner_id is None and owner == user
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
    if owner is not None and not roles.is_member(owner):
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
    case.refresh_from_db()
    return case
