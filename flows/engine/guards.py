"""Every rule a move must satisfy, each unmet one with a code and a message.

`evaluate` never raises and never writes: the transition service calls it
under the row lock, and the pages call it to explain a blocked button before
anyone clicks. Each rule is one small function below; `remedies` says what
a refused move may offer the user who tried it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from flows import access
from flows.engine.checklists import ChecklistEntry, checklist_state
from flows.models import Case, ChecklistItem, Status, Transition

NO_TRANSITION = "no_transition"
ROLE = "role"
CHECKLIST = "checklist"
REASON_REQUIRED = "reason_required"
STALE = "stale"
NOT_EDITABLE = "not_editable"
NEXT_ACTION = "next_action"

# What the move forms ask for with the move itself (a reason, a next action).
ASKED_IN_FORM = frozenset({REASON_REQUIRED, NEXT_ACTION})
# What no input can fix: the move is not this user's to make.
NOT_CHOOSABLE = frozenset({ROLE, NOT_EDITABLE})
# What a manager's override never passes.
NOT_OVERRIDABLE = frozenset({NO_TRANSITION, ROLE, NOT_EDITABLE, STALE})


@dataclass(frozen=True)
class GuardFailure:
    code: str
    message: str
    items: tuple[ChecklistItem, ...] = field(default=())


@dataclass(frozen=True)
class Attempt:
    """One move as the guards see it."""

    case: Case
    transition: Transition
    user: object | None
    reason: str
    override: bool
    checklist: list[ChecklistEntry] | None


def find_transition(case: Case, target_code: str) -> Transition | None:
    return (
        Transition.objects.select_related("source", "target")
        .filter(
            flow_id=case.flow_id, source__code=case.status, target__code=target_code
        )
        .first()
    )


def stale_failure() -> GuardFailure:
    """The case moved since the user loaded it (also raised by the FSM lock)."""
    return GuardFailure(
        STALE, _("Ce dossier vient de changer de statut : rechargez-le avant d'agir.")
    )


def not_editable_failure() -> GuardFailure:
    return GuardFailure(NOT_EDITABLE, str(access.NOT_YOURS))


def edit_conflict_message(*, by: str, at) -> str:
    """A save refused because someone else saved first (case or quote)."""
    when = formats.time_format(timezone.localtime(at), "H:i")
    return _(
        "Modifié par %(who)s à %(when)s pendant que vous écriviez : vos "
        "saisies sont conservées ; vérifiez puis enregistrez à nouveau."
    ) % {"who": by, "when": when}


# --- The rules, one function each --------------------------------------------


def _no_transition(case: Case, target_code: str) -> GuardFailure:
    labels = dict(
        Status.objects.filter(
            flow_id=case.flow_id, code__in=[case.status, target_code]
        ).values_list("code", "label")
    )
    return GuardFailure(
        NO_TRANSITION,
        _("Le flux ne prévoit pas de passer de « %(source)s » à « %(target)s ».")
        % {
            "source": labels.get(case.status, case.status),
            "target": labels.get(target_code, target_code),
        },
    )


def _role(move: Attempt) -> GuardFailure | None:
    if move.transition.allowed_roles != Transition.AllowedRoles.MANAGERS:
        return None
    if move.user is not None and access.is_manager(move.user):
        return None
    return GuardFailure(
        ROLE,
        _("« %(label)s » est réservé aux responsables.")
        % {"label": move.transition.label},
    )


def _checklist(move: Attempt) -> GuardFailure | None:
    if not move.transition.enforce_checklist:
        return None
    entries = move.checklist
    if entries is None:
        entries = checklist_state(move.case, move.transition.source)
    missing = tuple(entry.item for entry in entries if entry.blocks)
    overridden = (
        move.override
        and move.reason
        and move.user is not None
        and access.is_manager(move.user)
    )
    if not missing or overridden:
        return None
    return GuardFailure(
        CHECKLIST,
        _("Checklist de « %(status)s » incomplète : %(items)s.")
        % {
            "status": move.transition.source.label,
            "items": ", ".join(str(item) for item in missing),
        },
        items=missing,
    )


def _next_action(move: Attempt) -> GuardFailure | None:
    target, case = move.transition.target, move.case
    if target.kind != Status.Kind.OPEN or not case.flow.require_next_action:
        return None
    if (case.next_action or "").strip() and case.next_action_due:
        return None
    return GuardFailure(
        NEXT_ACTION,
        _(
            "« %(target)s » est un statut en cours : indiquez la prochaine "
            "action et son échéance."
        )
        % {"target": target.label},
    )


def _reason(move: Attempt) -> GuardFailure | None:
    if move.reason:
        return None
    if move.transition.requires_reason:
        return GuardFailure(
            REASON_REQUIRED,
            _("Indiquez un motif pour « %(label)s ».")
            % {"label": move.transition.label},
        )
    if move.override:
        return GuardFailure(
            REASON_REQUIRED, _("Un forçage doit être justifié par un motif.")
        )
    return None


RULES: tuple[Callable[[Attempt], GuardFailure | None], ...] = (
    _role,
    _checklist,
    _next_action,
    _reason,
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
    checklist: list[ChecklistEntry] | None = None,
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
    if user is not None and not access.can_act_on(user, case):
        failures.append(not_editable_failure())
    if expected_status is not None and expected_status != case.status:
        failures.append(stale_failure())
    if transition is None:
        transition = find_transition(case, target_code)
    if transition is None:
        return [*failures, _no_transition(case, target_code)]
    move = Attempt(
        case=case,
        transition=transition,
        user=user,
        reason=(reason or "").strip(),
        override=override,
        checklist=checklist,
    )
    failures.extend(failure for rule in RULES if (failure := rule(move)))
    return failures


# --- What a refused move may offer --------------------------------------------


@dataclass(frozen=True)
class Remedies:
    """What the user who met `failures` may do about them, right there.

    - `choosable`: the move is theirs to make at all (role, ownership);
    - `can_override`: a manager may force the unmet checklist with a reason;
    - `can_complete`: every failure can be fixed in the move form (a reason,
      a next action, an override), so the form is offered again;
    - `blocking`: the failures nothing in the form can fix, i.e. why the
      move cannot be completed here;
    - `shown`: the failures to list (the form asks for the others itself).
    """

    codes: frozenset[str]
    choosable: bool
    can_override: bool
    can_complete: bool
    blocking: tuple[GuardFailure, ...]
    shown: tuple[GuardFailure, ...]

    @property
    def reason_required(self) -> bool:
        return REASON_REQUIRED in self.codes

    @property
    def asks_reason(self) -> bool:
        """The form needs a reason: the move requires one, or forcing does."""
        return self.reason_required or self.can_override

    @property
    def needs_next_action(self) -> bool:
        return NEXT_ACTION in self.codes

    @property
    def only_reason(self) -> bool:
        return self.codes == {REASON_REQUIRED}


def remedies(failures: Iterable[GuardFailure], *, user) -> Remedies:
    """What a move refused with `failures` may offer `user` (one rule for all pages)."""
    failures = tuple(failures)
    codes = frozenset(failure.code for failure in failures)
    can_override = bool(
        CHECKLIST in codes
        and not codes & NOT_OVERRIDABLE
        and user is not None
        and access.is_manager(user)
    )
    fixable = ASKED_IN_FORM | ({CHECKLIST} if can_override else set())
    blocking = tuple(f for f in failures if f.code not in fixable)
    return Remedies(
        codes=codes,
        choosable=not codes & NOT_CHOOSABLE,
        can_override=can_override,
        can_complete=not blocking,
        blocking=blocking,
        shown=tuple(f for f in failures if f.code not in ASKED_IN_FORM),
    )
