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
from flows import guards, roles, sequences
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
                        _("Ce dossier vient de changer de statut : rechargez-le avant d'agir."),
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
    now = timezone.now()
    time_in_previous = now - case.status_entered_at
    case.move_to(transition)
    case.status_entered_at = now
    target = transition.target
    case.closed_at = now if target.is_closed else None
    if target.kind == Status.Kind.LOST and reason:
        case.lost_reason = reason
    case._history_user = user
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


def create_case(*, flow: Flow, user, owner=None, actor_label: str = "", **fields) -> Case:
    """Create a case in the flow's initial status, with its reference.

    Raises ValidationError when the fields are invalid or the flow has no
    initial status.
    """
    initial = flow.initial_status()
    if initial is None:
        raise ValidationError(_("Le flux n'a pas de statut initial (position 1)."))
    with transaction.atomic():
        now = timezone.now()
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
        year = timezone.localdate().year
        number = sequences.next_value(f"case-{year}")
        case.reference = f"{year}-{number:04d}"
        case._history_user = user
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
        raise ValidationError(_("Cet élément se coche tout seul quand la condition est remplie."))
    if item.status.flow_id != case.flow_id:
        raise ValidationError(_("Cet élément n'appartient pas au flux du dossier."))
    with transaction.atomic():
        state = CaseChecklistItem.objects.select_for_update().filter(case=case, item=item).first()
        if state is None:
            state = CaseChecklistItem(case=case, item=item)
        elif state.done == done and state.note == note:
            return state
        state.done = done
        state.done_by = user if done else None
        state.done_at = timezone.now() if done else None
        state.note = note
        state._history_user = user
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
        comment = Comment.objects.create(case=case, author=user, body=body)
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
