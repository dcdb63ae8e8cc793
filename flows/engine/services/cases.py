"""Creating and editing cases: details, owner, checklist ticks, comments."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from audit import refusals
from audit import services as audit
from config import clock
from flows import access
from flows.engine import graph, normalize, sequences
from flows.models import (
    Case,
    CaseChecklistItem,
    ChecklistItem,
    Comment,
    Flow,
    Status,
    StatusChange,
)
from flows.outbox import notifications, webhooks


class ActionRefused(refusals.AccessRefused):
    """The user may not do this to this case (answered 403, audited)."""


def _refuse(message, *, user, case: Case, action: str) -> ActionRefused:
    # Recorded here, not only by the middleware: commands and other
    # services call these use cases outside any request.
    error = ActionRefused(message, case=case, action=action)
    refusals.record_refusal(error, user=user)
    return error


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
            actor_label=access.actor_name(user, actor_label) if user is None else "",
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


# One piece on purpose: the references, the rows, their history and their
# audit events are numbered and written together in one transaction.
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
                actor_label=access.actor_name(user, "") if user is None else "",
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


def check_can_act(case: Case, *, user, action: str) -> None:
    """Raise ActionRefused (and audit it) when `user` may not act on `case`."""
    if not access.can_act_on(user, case):
        raise _refuse(access.NOT_YOURS, user=user, case=case, action=action)


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
        # Lock the case first: two first ticks of an item would otherwise
        # both find no row and both insert it (a unique-constraint 500 on
        # PostgreSQL). The second now waits, then sees the first's row.
        Case.objects.select_for_update(no_key=True).only("pk").get(pk=case.pk)
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
        if missing and requires_next_action(locked):
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
        raise _refuse(
            _(
                "Seul un responsable réattribue un dossier ; un membre peut prendre un dossier libre."
            ),
            user=user,
            case=case,
            action="assign",
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


def requires_next_action(case: Case) -> bool:
    """True when `case` is in an open status of a flow that requires next actions."""
    return Status.objects.filter(
        flow_id=case.flow_id,
        code=case.status,
        kind=Status.Kind.OPEN,
        flow__require_next_action=True,
    ).exists()
