"""Reads that span relations: where every view starts its lookups."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from config import clock
from flows import guards, roles
from flows.models import Case, Flow, Status, Transition


def cases_visible_to(*, user) -> QuerySet[Case]:
    """Every case of the team for its members (one source of truth)."""
    if user is None or not user.is_authenticated or not roles.is_member(user):
        return Case.objects.none()
    return Case.objects.all()


def active_flow() -> Flow | None:
    return Flow.objects.filter(is_active=True).first()


def team_members() -> QuerySet:
    """Users who hold a role, i.e. who may own cases."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles.ROLES)
        .distinct()
        .order_by("first_name", "username")
    )


def statuses_of(flow: Flow) -> list[Status]:
    return list(flow.statuses.order_by("position"))


# --- Stale, overdue, due today --------------------------------------------------


def stale_q(statuses: Iterable[Status], now: datetime | None = None) -> Q:
    """Open cases idle in their status beyond the status's SLA."""
    now = now or clock.now()
    condition = Q(pk__in=[])
    for status in statuses:
        if status.sla_days and not status.is_closed:
            condition |= Q(
                status=status.code,
                status_entered_at__lt=now - timedelta(days=status.sla_days),
            )
    return condition


def overdue_q(today: date | None = None) -> Q:
    return Q(closed_at__isnull=True, next_action_due__lt=today or clock.today())


def due_today_q(today: date | None = None) -> Q:
    return Q(closed_at__isnull=True, next_action_due=today or clock.today())


def decorate(cases: Iterable[Case], statuses: Iterable[Status]) -> list[Case]:
    """Attach what cards and lists show: status, days in status and badges."""
    by_code = {status.code: status for status in statuses}
    now, today = clock.now(), clock.today()
    decorated = []
    for case in cases:
        status = by_code.get(case.status)
        case.status_obj = status
        case.days_in_status = (now - case.status_entered_at).days
        is_open = status is None or not status.is_closed
        case.is_stale = bool(
            is_open
            and status
            and status.sla_days
            and now - case.status_entered_at > timedelta(days=status.sla_days)
        )
        due = case.next_action_due
        case.is_overdue = bool(is_open and due and due < today)
        case.is_due_today = bool(is_open and due and due == today)
        case.lacks_next_action = bool(is_open and not case.next_action)
        decorated.append(case)
    return decorated


# --- Moves --------------------------------------------------------------------


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


def choosable(
    transitions: Iterable[Transition], *, case: Case, user
) -> list[Transition]:
    """The moves from the case's status this user may pick (role and ownership).

    Checklists are not evaluated here: a blocked move explains itself.
    """
    if not guards.can_act_on(user, case):
        return []
    is_manager = roles.is_manager(user)
    return [
        t
        for t in transitions
        if t.source.code == case.status
        and (is_manager or t.allowed_roles == Transition.AllowedRoles.EVERYONE)
    ]
