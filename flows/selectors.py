"""Reads that span relations: where every view starts its lookups."""

from __future__ import annotations

from django.db.models import QuerySet

from flows import guards, roles
from flows.models import Case, Flow, Transition


def cases_visible_to(*, user) -> QuerySet[Case]:
    """Every case of the team for its members (one source of truth)."""
    if user is None or not user.is_authenticated or not roles.is_member(user):
        return Case.objects.none()
    return Case.objects.all()


def active_flow() -> Flow | None:
    return Flow.objects.filter(is_active=True).first()


def transitions_from(case: Case) -> list[Transition]:
    return list(
        Transition.objects.select_related("source", "target")
        .filter(flow_id=case.flow_id, source__code=case.status)
        .order_by("target__position")
    )


def allowed_targets(
    case: Case, *, user
) -> list[tuple[Transition, list[guards.GuardFailure]]]:
    """Each configured move from the case's status with what would block it now."""
    return [
        (
            transition,
            guards.evaluate(
                case, transition.target.code, user=user, transition=transition
            ),
        )
        for transition in transitions_from(case)
    ]
