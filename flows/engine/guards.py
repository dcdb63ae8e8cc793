"""Every rule a move must satisfy, each unmet one with a code and a message.

`evaluate` never raises and never writes: the transition service calls it
under the row lock, and the pages call it to explain a blocked button before
anyone clicks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from flows import access
from flows.engine.checklists import checklist_state
from flows.models import Case, ChecklistItem, Status, Transition

NO_TRANSITION = "no_transition"
ROLE = "role"
CHECKLIST = "checklist"
REASON_REQUIRED = "reason_required"
STALE = "stale"
NOT_EDITABLE = "not_editable"
NEXT_ACTION = "next_action"


@dataclass(frozen=True)
class GuardFailure:
    code: str
    message: str
    items: tuple[ChecklistItem, ...] = field(default=())


def find_transition(case: Case, target_code: str) -> Transition | None:
    return (
        Transition.objects.select_related("source", "target")
        .filter(
            flow_id=case.flow_id, source__code=case.status, target__code=target_code
        )
        .first()
    )


def evaluate(
    case: Case,
    target_code: str,
    *,
    user,
    reason: str = "",
    expected_status: str | None = None,
    override: bool = False,
    transition: Transition | None = None,
    checklist: list | None = None,
) -> list[GuardFailure]:
    """Return every unmet guard for moving `case` to `target_code`.

    `user=None` is the system or the client acting (public quote page): it
    may follow transitions open to everyone, on any case. A manager's
    `override` with a reason passes unmet checklist items, nothing else.
    `transition` and the `checklist` of the case's status may be given when
    the caller already loaded them (a page evaluating several moves).
    A move into an open status needs a next action and its due date when
    the flow requires them (`next_action`; never overridden, the mover
    simply gives them with the move).
    """
    failures: list[GuardFailure] = []
    reason = (reason or "").strip()

    if user is not None and not access.can_act_on(user, case):
        failures.append(
            GuardFailure(
                NOT_EDITABLE,
                _(
                    "Vous ne pouvez agir que sur vos dossiers et les dossiers non attribués."
                ),
            )
        )
    if expected_status is not None and expected_status != case.status:
        failures.append(
            GuardFailure(
                STALE,
                _("Ce dossier vient de changer de statut : rechargez-le avant d'agir."),
            )
        )

    if transition is None:
        transition = find_transition(case, target_code)
    if transition is None:
        labels = dict(
            Status.objects.filter(
                flow_id=case.flow_id, code__in=[case.status, target_code]
            ).values_list("code", "label")
        )
        failures.append(
            GuardFailure(
                NO_TRANSITION,
                _(
                    "Le flux ne prévoit pas de passer de « %(source)s » à « %(target)s »."
                )
                % {
                    "source": labels.get(case.status, case.status),
                    "target": labels.get(target_code, target_code),
                },
            )
        )
        return failures

    if transition.allowed_roles == Transition.AllowedRoles.MANAGERS and not (
        user is not None and access.is_manager(user)
    ):
        failures.append(
            GuardFailure(
                ROLE,
                _("« %(label)s » est réservé aux responsables.")
                % {"label": transition.label},
            )
        )

    if transition.enforce_checklist:
        if checklist is None:
            checklist = checklist_state(case, transition.source)
        missing = tuple(entry.item for entry in checklist if entry.blocks)
        may_override = (
            override and user is not None and access.is_manager(user) and reason
        )
        if missing and not may_override:
            failures.append(
                GuardFailure(
                    CHECKLIST,
                    _("Checklist de « %(status)s » incomplète : %(items)s.")
                    % {
                        "status": transition.source.label,
                        "items": ", ".join(str(item) for item in missing),
                    },
                    items=missing,
                )
            )

    if (
        transition.target.kind == Status.Kind.OPEN
        and case.flow.require_next_action
        and not ((case.next_action or "").strip() and case.next_action_due)
    ):
        failures.append(
            GuardFailure(
                NEXT_ACTION,
                _(
                    "« %(target)s » est un statut en cours : indiquez la prochaine "
                    "action et son échéance."
                )
                % {"target": transition.target.label},
            )
        )

    if transition.requires_reason and not reason:
        failures.append(
            GuardFailure(
                REASON_REQUIRED,
                _("Indiquez un motif pour « %(label)s ».")
                % {"label": transition.label},
            )
        )
    elif override and not reason:
        failures.append(
            GuardFailure(
                REASON_REQUIRED, _("Un forçage doit être justifié par un motif.")
            )
        )
    return failures
