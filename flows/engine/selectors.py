"""Reads that span relations: where every view starts its lookups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import (
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
)
from django.http import QueryDict
from django.utils import timezone

from config import clock, http
from flows import access
from flows.engine import guards
from flows.engine.checklists import checklist_state
from flows.models import Case, Flow, Status, Transition


def active_flow() -> Flow | None:
    return Flow.objects.filter(is_active=True).first()


def active_statuses() -> list[Status]:
    """The active flow's statuses in order, each with its flow: one query.

    Empty when no flow is active. Pages that need the flow too read it from
    the first status (`statuses[0].flow`) rather than asking again.
    """
    return list(
        Status.objects.select_related("flow")
        .filter(flow__is_active=True)
        .order_by("position")
    )


def statuses_of(flow: Flow) -> list[Status]:
    return list(flow.statuses.order_by("position"))


# --- Stale, overdue, due today, waiting -----------------------------------------


def waiting_q(today: date | None = None) -> Q:
    """Cases waiting on the client now: their return date is still to come.

    On the return date the case is back by itself (nothing has to run).
    """
    return Q(closed_at__isnull=True, waiting_until__gt=today or clock.today())


def not_waiting_q(today: date | None = None) -> Q:
    today = today or clock.today()
    return Q(waiting_until__isnull=True) | Q(waiting_until__lte=today)


def waiting_ends_q(today: date | None = None) -> Q:
    """Open cases whose client is expected back today."""
    return Q(closed_at__isnull=True, waiting_until=today or clock.today())


def stale_q(statuses: Iterable[Status], now: datetime | None = None) -> Q:
    """Open cases idle in their status beyond the status's SLA.

    Client time does not count: the SLA runs from `status_entered_at` plus
    `waiting_in_status`, and a case waiting on the client is never stale
    before its return date.
    """
    now = now or clock.now()
    condition = Q(pk__in=[])
    for status in statuses:
        if status.sla_days and not status.is_closed:
            limit = now - timedelta(days=status.sla_days)
            condition |= Q(
                # The plain bound first: it can use the (flow, status,
                # status_entered_at) index; waiting only ever adds time.
                Q(status=status.code, status_entered_at__lt=limit)
                & Q(
                    status_entered_at__lt=ExpressionWrapper(
                        Value(limit) - F("waiting_in_status"),
                        output_field=DateTimeField(),
                    )
                )
            )
    return condition & not_waiting_q(timezone.localdate(now))


def overdue_q(today: date | None = None) -> Q:
    today = today or clock.today()
    return Q(closed_at__isnull=True, next_action_due__lt=today) & not_waiting_q(today)


def due_today_q(today: date | None = None) -> Q:
    today = today or clock.today()
    return Q(closed_at__isnull=True, next_action_due=today) & not_waiting_q(today)


def no_next_action_q(today: date | None = None) -> Q:
    """Open cases without a next action or its due date, unless waiting."""
    today = today or clock.today()
    return (
        Q(closed_at__isnull=True)
        & (Q(next_action="") | Q(next_action_due__isnull=True))
        & not_waiting_q(today)
    )


def waiting_back_at(day: date) -> datetime:
    """The moment a wait "until `day`" ends: the start of that day, local time."""
    return timezone.make_aware(datetime.combine(day, time.min))


def waited_so_far(
    waiting_in_status: timedelta | None, waiting_until: date | None, now: datetime
) -> timedelta:
    """Client time so far, from the two waiting fields of a case."""
    waited = waiting_in_status or timedelta(0)
    if waiting_until is not None:
        waited -= max(waiting_back_at(waiting_until) - now, timedelta(0))
    return max(waited, timedelta(0))


def client_time(case: Case, now: datetime | None = None) -> timedelta:
    """Client time spent so far in the current status (the planned rest excluded)."""
    return waited_so_far(case.waiting_in_status, case.waiting_until, now or clock.now())


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
        back = case.waiting_until
        case.is_waiting = bool(is_open and back and back > today)
        case.waiting_ends_today = bool(is_open and back and back == today)
        waited = case.waiting_in_status or timedelta(0)
        case.is_stale = bool(
            is_open
            and status
            and status.sla_days
            and not case.is_waiting
            and now - case.status_entered_at - waited > timedelta(days=status.sla_days)
        )
        due = case.next_action_due
        case.is_overdue = bool(is_open and not case.is_waiting and due and due < today)
        case.is_due_today = bool(
            is_open and not case.is_waiting and due and due == today
        )
        case.lacks_next_action = bool(
            is_open and not case.is_waiting and not (case.next_action and due)
        )
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
    case: Case, *, user, checklist: list | None = None
) -> list[tuple[Transition, list[guards.GuardFailure]]]:
    """Each configured move from the case's status with what would block it now.

    Every move starts from the same status, so its checklist is read once.
    """
    transitions = transitions_from(case)
    if checklist is None and any(t.enforce_checklist for t in transitions):
        checklist = checklist_state(case)
    return [
        (
            transition,
            guards.evaluate(
                case,
                transition.target.code,
                user=user,
                transition=transition,
                checklist=checklist,
            ),
        )
        for transition in transitions
    ]


def choosable(
    transitions: Iterable[Transition], *, case: Case, user
) -> list[Transition]:
    """The moves from the case's status this user may pick (role and ownership).

    Checklists are not evaluated here: a blocked move explains itself.
    """
    if not access.can_act_on(user, case):
        return []
    is_manager = access.is_manager(user)
    return [
        t
        for t in transitions
        if t.source.code == case.status
        and (is_manager or t.allowed_roles == Transition.AllowedRoles.EVERYONE)
    ]


# --- The board ----------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilters:
    """The board's filters, kept in the query string (shareable, back button)."""

    owner: str = "all"  # "all", "mine", "none" or a user id
    q: str = ""
    stale: bool = False
    overdue: bool = False
    waiting: bool = False

    @classmethod
    def from_query(cls, query: QueryDict) -> BoardFilters:
        owner = query.get("owner", "all") or "all"
        if owner not in ("all", "mine", "none"):
            # No valid id (see config.http.parse_int): the whole team.
            owner_id = http.query_int(query, "owner", minimum=1)
            owner = "all" if owner_id is None else str(owner_id)
        return cls(
            owner=owner,
            q=query.get("q", "").strip()[:100],
            stale=query.get("stale") == "1",
            overdue=query.get("overdue") == "1",
            waiting=query.get("waiting") == "1",
        )

    @property
    def owner_id(self) -> int | None:
        """The user id `owner` names, if it names one."""
        return http.parse_int(self.owner, minimum=1)

    @property
    def active(self) -> bool:
        return self != BoardFilters()

    def querystring(self) -> str:
        params = {}
        if self.owner != "all":
            params["owner"] = self.owner
        if self.q:
            params["q"] = self.q
        if self.stale:
            params["stale"] = "1"
        if self.overdue:
            params["overdue"] = "1"
        if self.waiting:
            params["waiting"] = "1"
        return urlencode(params)


def filtered_cases(
    *, flow: Flow, user, filters: BoardFilters, statuses: list[Status]
) -> QuerySet[Case]:
    cases = access.cases_visible_to(user=user).filter(flow=flow)
    if filters.owner == "mine":
        cases = cases.filter(owner=user)
    elif filters.owner == "none":
        cases = cases.filter(owner__isnull=True)
    elif filters.owner_id is not None:
        cases = cases.filter(owner_id=filters.owner_id)
    if filters.q:
        term = filters.q
        cases = cases.filter(
            Q(reference__icontains=term)
            | Q(title__icontains=term)
            | Q(company__icontains=term)
            | Q(contact_name__icontains=term)
            | Q(email__icontains=term)
        )
    if filters.stale:
        cases = cases.filter(stale_q(statuses))
    if filters.overdue:
        cases = cases.filter(overdue_q())
    if filters.waiting:
        cases = cases.filter(waiting_q())
    return cases


# Won and lost columns show the cases closed in the last days only, as
# Pipedrive and Odoo do: the board is for work in progress, and the window
# query then ranks open cases plus a bounded tail instead of every case ever
# closed. A text search still finds older ones; exports and insights see all.
BOARD_CLOSED_DAYS = 30


def on_board(cases: QuerySet[Case], filters: BoardFilters) -> QuerySet[Case]:
    if filters.q:
        return cases
    since = clock.now() - timedelta(days=BOARD_CLOSED_DAYS)
    return cases.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=since))


def transitions_by_source(
    transitions: list[Transition],
) -> dict[str, list[Transition]]:
    by_source: dict[str, list[Transition]] = {}
    for transition in transitions:
        by_source.setdefault(transition.source.code, []).append(transition)
    return by_source


def flow_transitions(flow: Flow) -> list[Transition]:
    return list(
        Transition.objects.filter(flow=flow)
        .select_related("source", "target")
        .order_by("source__position", "target__position")
    )
