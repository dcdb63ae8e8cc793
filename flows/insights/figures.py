"""The hidden cost, measured: every figure of /insights/ and the self-test.

Each figure is one aggregate query (or one narrow `values_list`) whatever the
number of cases, so the page's query count is fixed (tests/flows/
test_insights.py holds it to that at 50 and 5,000 cases).

Medians and 90th percentiles are computed in Python from one `values_list`
of durations: SQLite has no percentile aggregate, and one code path gives
the same answers on both databases (the interpolation is PostgreSQL's
`percentile_cont`). The query count stays constant; the memory grows with
the number of stays in the period (two numbers each, some 25,000 for 5,000
cases over a year, about a megabyte).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from config import clock
from flows.engine import graph, guards, selectors
from flows.models import Case, DiagnosticResult, Flow, Status, StatusChange

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90


@dataclass(frozen=True)
class Period:
    days: int
    start: datetime
    end: datetime


def period_of(days: int | str | None, now: datetime | None = None) -> Period:
    """The last `days` days (one of PERIODS; anything else: the default)."""
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = DEFAULT_PERIOD
    if days not in PERIODS:
        days = DEFAULT_PERIOD
    now = now or clock.now()
    return Period(days=days, start=now - timedelta(days=days), end=now)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _seconds(value: timedelta | None) -> float:
    return value.total_seconds() if value else 0.0


def _duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(seconds))


def _codes(statuses: Iterable[Status], *kinds: str) -> list[str]:
    return [status.code for status in statuses if status.kind in kinds]


def _in_flow(flow: Flow) -> QuerySet[Case]:
    return Case.objects.filter(flow=flow)


# --- Time in each status ---------------------------------------------------------


@dataclass
class StatusTime:
    status: Status
    stays: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None
    # Time spent waiting on the client: reported apart, as client time.
    client: timedelta = timedelta(0)
    total: timedelta = timedelta(0)

    @property
    def client_share(self) -> float | None:
        seconds = self.total.total_seconds()
        return self.client.total_seconds() / seconds if seconds else None


def time_in_status(
    *, flow: Flow, statuses: list[Status], period: Period
) -> list[StatusTime]:
    """Median and 90th percentile of team time per open status.

    A stay counts when it ended in the period (a StatusChange leaving the
    status) or is still going on (open cases, current stays included). Team
    time is the stay minus the time spent waiting on the client. Two
    queries.
    """
    open_statuses = [s for s in statuses if s.kind == Status.Kind.OPEN]
    by_pk = {s.pk: s for s in open_statuses}
    by_code = {s.code: s for s in open_statuses}
    team: dict[int, list[float]] = defaultdict(list)
    client: dict[int, float] = defaultdict(float)
    total: dict[int, float] = defaultdict(float)
    left = StatusChange.objects.filter(
        case__flow=flow,
        from_status__in=list(by_pk),
        at__gt=period.start,
        at__lte=period.end,
    ).values_list("from_status_id", "time_in_previous", "waiting_in_previous")
    for status_id, spent, waited in left:
        spent_s, waited_s = _seconds(spent), _seconds(waited)
        team[status_id].append(max(spent_s - waited_s, 0.0))
        client[status_id] += waited_s
        total[status_id] += spent_s
    current = (
        _in_flow(flow)
        .filter(status__in=list(by_code))
        .values_list(
            "status", "status_entered_at", "waiting_in_status", "waiting_until"
        )
    )
    for code, entered, waiting, until in current:
        status_id = by_code[code].pk
        spent_s = max((period.end - entered).total_seconds(), 0.0)
        waited_s = _seconds(selectors.waited_so_far(waiting, until, period.end))
        team[status_id].append(max(spent_s - waited_s, 0.0))
        client[status_id] += waited_s
        total[status_id] += spent_s
    rows = []
    for status in open_statuses:
        values = team.get(status.pk, [])
        rows.append(
            StatusTime(
                status=status,
                stays=len(values),
                median=_duration(percentile(values, 0.5)),
                p90=_duration(percentile(values, 0.9)),
                client=timedelta(seconds=round(client.get(status.pk, 0.0))),
                total=timedelta(seconds=round(total.get(status.pk, 0.0))),
            )
        )
    return rows


@dataclass
class CycleTime:
    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


def cycle_time(*, flow: Flow, statuses: list[Status], period: Period) -> CycleTime:
    """Lead to signature: creation to the won status, for cases won in the period."""
    rows = (
        _in_flow(flow)
        .filter(
            status__in=_codes(statuses, Status.Kind.WON),
            closed_at__gt=period.start,
            closed_at__lte=period.end,
        )
        .values_list("created_at", "closed_at")
    )
    values = [(closed - created).total_seconds() for created, closed in rows]
    return CycleTime(
        count=len(values),
        median=_duration(percentile(values, 0.5)),
        p90=_duration(percentile(values, 0.9)),
    )


# --- Funnel and win rate ------------------------------------------------------------


@dataclass
class FunnelStep:
    status: Status
    reached: int
    share: float | None  # of the cases that entered the flow
    drop: float | None  # lost since the previous step


@dataclass
class Funnel:
    cohort: int
    steps: list[FunnelStep]
    won: int = 0
    lost: int = 0

    @property
    def win_rate(self) -> float | None:
        closed = self.won + self.lost
        return self.won / closed if closed else None


def funnel(*, flow: Flow, statuses: list[Status], period: Period) -> Funnel:
    """Cases created in the period that reached each status, and the win rate.

    Reached means entered at least once (a case sent back and forward again
    counts once). Two queries.
    """
    reached = dict(
        StatusChange.objects.filter(
            case__flow=flow,
            case__created_at__gt=period.start,
            case__created_at__lte=period.end,
        )
        .values("to_status")
        .annotate(n=Count("case", distinct=True))
        .values_list("to_status", "n")
    )
    chain = [s for s in statuses if s.kind != Status.Kind.LOST]
    cohort = reached.get(chain[0].pk, 0) if chain else 0
    steps, previous = [], None
    for status in chain:
        count = reached.get(status.pk, 0)
        steps.append(
            FunnelStep(
                status=status,
                reached=count,
                share=count / cohort if cohort else None,
                drop=(1 - count / previous) if previous else None,
            )
        )
        previous = count
    closed = (
        _in_flow(flow)
        .filter(closed_at__gt=period.start, closed_at__lte=period.end)
        .aggregate(
            won=Count("pk", filter=Q(status__in=_codes(statuses, Status.Kind.WON))),
            lost=Count("pk", filter=Q(status__in=_codes(statuses, Status.Kind.LOST))),
        )
    )
    return Funnel(cohort=cohort, steps=steps, won=closed["won"], lost=closed["lost"])


# --- Money at risk ---------------------------------------------------------------------


@dataclass
class RiskRow:
    key: str  # a status code or an owner id ("" when unassigned)
    label: str
    count: int
    amount: Decimal


@dataclass
class MoneyAtRisk:
    count: int = 0
    amount: Decimal = Decimal(0)
    by_status: list[RiskRow] = field(default_factory=list)
    by_owner: list[RiskRow] = field(default_factory=list)


def money_at_risk(
    *, flow: Flow, statuses: list[Status], names: dict[int, str], now: datetime
) -> MoneyAtRisk:
    """Stale cases right now and the amount they hold, per status and owner.

    One aggregate query (at most statuses × owners rows).
    """
    rows = (
        _in_flow(flow)
        .filter(selectors.stale_q(statuses, now))
        .values("status", "owner_id")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    per_status: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    per_owner: dict[int | None, list] = defaultdict(lambda: [0, Decimal(0)])
    result = MoneyAtRisk()
    for row in rows:
        amount = row["total"] or Decimal(0)
        for bucket in (per_status[row["status"]], per_owner[row["owner_id"]]):
            bucket[0] += row["n"]
            bucket[1] += amount
        result.count += row["n"]
        result.amount += amount
    for status in statuses:
        if status.code in per_status:
            n, amount = per_status[status.code]
            result.by_status.append(RiskRow(status.code, status.label, n, amount))
    for owner_id, (n, amount) in sorted(
        per_owner.items(), key=lambda item: (-item[1][1], -item[1][0])
    ):
        result.by_owner.append(
            RiskRow(
                str(owner_id or ""),
                names.get(owner_id, "") if owner_id else str(_("Non attribué")),
                n,
                amount,
            )
        )
    return result


# --- First response ----------------------------------------------------------------------


# Days from a weekday to the next working day (Friday, Saturday → Monday).
_TO_NEXT_WORKING_DAY = {4: 3, 5: 2}


def one_working_day_after(moment: datetime) -> datetime:
    """The same time on the next working day (Monday to Friday), local time.

    Adding days to a local aware datetime keeps the wall-clock time (a DST
    change in between is honoured): one conversion per lead, no more.
    """
    local = timezone.localtime(moment)
    return local + timedelta(days=_TO_NEXT_WORKING_DAY.get(local.weekday(), 1))


@dataclass
class FirstResponse:
    leads: int = 0
    answered: int = 0
    median: timedelta | None = None
    in_time: int = 0
    late: int = 0  # answered late, or not answered and past the deadline
    pending: int = 0  # not answered yet, still within one working day

    @property
    def in_time_share(self) -> float | None:
        due = self.in_time + self.late
        return self.in_time / due if due else None


def response_of(created: datetime, responded: datetime | None, now: datetime) -> str:
    """ "in_time", "late" or "pending" for one lead."""
    deadline = one_working_day_after(created)
    if responded is not None:
        return "in_time" if responded <= deadline else "late"
    return "late" if now > deadline else "pending"


def first_response(*, flow: Flow, period: Period) -> FirstResponse:
    """From a new lead's creation to its first move or completed next action.

    Leads are the cases created in the period; one query.
    """
    rows = (
        _in_flow(flow)
        .filter(created_at__gt=period.start, created_at__lte=period.end)
        .values_list("created_at", "first_response_at")
    )
    result, delays = FirstResponse(), []
    for created, responded in rows:
        result.leads += 1
        if responded is not None:
            result.answered += 1
            delays.append(max((responded - created).total_seconds(), 0.0))
        outcome = response_of(created, responded, period.end)
        if outcome == "in_time":
            result.in_time += 1
        elif outcome == "late":
            result.late += 1
        else:
            result.pending += 1
    result.median = _duration(percentile(delays, 0.5))
    return result


# --- Errors prevented and rework ------------------------------------------------------------

GUARD_LABELS = {
    guards.CHECKLIST: _("checklist incomplète"),
    guards.REASON_REQUIRED: _("motif manquant"),
    guards.NEXT_ACTION: _("prochaine action manquante"),
    guards.ROLE: _("réservé aux responsables"),
    guards.NOT_EDITABLE: _("dossier d'un autre"),
    guards.NO_TRANSITION: _("déplacement non prévu"),
    guards.STALE: _("dossier modifié entre-temps"),
}


@dataclass
class GuardCount:
    code: str
    label: str
    count: int


@dataclass
class Rework:
    blocked: int = 0
    by_guard: list[GuardCount] = field(default_factory=list)
    moves: int = 0
    overrides: int = 0
    backward: int = 0


def blocked_events(*, flow: Flow, period: Period) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        action="transition_blocked",
        case__flow=flow,
        at__gt=period.start,
        at__lte=period.end,
    )


def rework(*, flow: Flow, period: Period) -> Rework:
    """Moves refused by a guard (per guard), overrides and backward moves.

    Two queries. A refused move counts once per unmet guard in `by_guard`
    and once in `blocked`; the failure codes are read from the audit events'
    data (a JSON list no portable aggregate unpacks), one row per refusal.
    """
    result = Rework()
    codes: Counter[str] = Counter()
    for data in blocked_events(flow=flow, period=period).values_list("data", flat=True):
        result.blocked += 1
        codes.update(set((data or {}).get("failures", [])))
    result.by_guard = [
        GuardCount(code, str(GUARD_LABELS.get(code, code)), n)
        for code, n in sorted(codes.items(), key=lambda item: (-item[1], item[0]))
    ]
    counts = StatusChange.objects.filter(
        case__flow=flow,
        from_status__isnull=False,
        at__gt=period.start,
        at__lte=period.end,
    ).aggregate(
        moves=Count("pk"),
        overrides=Count("pk", filter=Q(override=True)),
        backward=Count("pk", filter=graph.backward_q()),
    )
    result.moves = counts["moves"]
    result.overrides = counts["overrides"]
    result.backward = counts["backward"]
    return result


# --- Key-person dependency and follow-ups ---------------------------------------------------


@dataclass
class OwnerLoad:
    owner_id: int | None
    name: str
    open_count: int
    open_amount: Decimal
    no_next_action: int
    overdue: int
    due_today: int
    waiting: int
    share: float | None = None  # of the assigned open amount


@dataclass
class Dependency:
    owners: list[OwnerLoad]
    open_count: int = 0
    open_amount: Decimal = Decimal(0)
    assigned_amount: Decimal = Decimal(0)
    # The fewest people who together hold half of the assigned open amount.
    half_holders: int | None = None
    no_next_action: int = 0
    overdue: int = 0
    due_today: int = 0
    waiting: int = 0
    waiting_ends_today: int = 0


def dependency(
    *, flow: Flow, statuses: list[Status], names: dict[int, str], today: date
) -> Dependency:
    """Open cases and amount per owner, with their follow-up state. One query."""
    rows = (
        _in_flow(flow)
        .filter(status__in=_codes(statuses, Status.Kind.OPEN))
        .values("owner_id")
        .annotate(
            n=Count("pk"),
            total=Sum("amount"),
            no_next=Count("pk", filter=selectors.no_next_action_q(today)),
            overdue=Count("pk", filter=selectors.overdue_q(today)),
            due_today=Count("pk", filter=selectors.due_today_q(today)),
            waiting=Count("pk", filter=selectors.waiting_q(today)),
            back_today=Count("pk", filter=selectors.waiting_ends_q(today)),
        )
        .order_by()
    )
    owners, result = [], Dependency(owners=[])
    back_today = 0
    for row in rows:
        amount = row["total"] or Decimal(0)
        owners.append(
            OwnerLoad(
                owner_id=row["owner_id"],
                name=names.get(row["owner_id"], "")
                if row["owner_id"]
                else str(_("Non attribué")),
                open_count=row["n"],
                open_amount=amount,
                no_next_action=row["no_next"],
                overdue=row["overdue"],
                due_today=row["due_today"],
                waiting=row["waiting"],
            )
        )
        back_today += row["back_today"]
    owners.sort(key=lambda o: (o.owner_id is None, -o.open_amount, -o.open_count))
    result.owners = owners
    result.open_count = sum(o.open_count for o in owners)
    result.open_amount = sum((o.open_amount for o in owners), Decimal(0))
    assigned = [o for o in owners if o.owner_id is not None]
    result.assigned_amount = sum((o.open_amount for o in assigned), Decimal(0))
    result.half_holders = half_holders([o.open_amount for o in assigned])
    for owner in assigned:
        if result.assigned_amount:
            owner.share = float(owner.open_amount / result.assigned_amount)
    result.no_next_action = sum(o.no_next_action for o in owners)
    result.overdue = sum(o.overdue for o in owners)
    result.due_today = sum(o.due_today for o in owners)
    result.waiting = sum(o.waiting for o in owners)
    result.waiting_ends_today = back_today
    return result


def half_holders(amounts: Iterable[Decimal]) -> int | None:
    """The smallest number of holders whose amounts add up to half the total."""
    ordered = sorted((a for a in amounts if a > 0), reverse=True)
    total = sum(ordered, Decimal(0))
    if not total:
        return None
    running = Decimal(0)
    for count, amount in enumerate(ordered, start=1):
        running += amount
        if running * 2 >= total:
            return count
    return len(ordered)  # pragma: no cover (the loop always returns)


# --- Lost reasons and promise slips ------------------------------------------------------------

LOST_REASONS_SHOWN = 8


@dataclass
class LostReason:
    reason: str
    count: int
    amount: Decimal


def lost_reasons(
    *, flow: Flow, statuses: list[Status], period: Period
) -> list[LostReason]:
    """Cases lost in the period, by reason (the most frequent first). One query."""
    rows = (
        _in_flow(flow)
        .filter(
            status__in=_codes(statuses, Status.Kind.LOST),
            closed_at__gt=period.start,
            closed_at__lte=period.end,
        )
        .values("lost_reason")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("-n", "lost_reason")
    )
    return [
        LostReason(row["lost_reason"], row["n"], row["total"] or Decimal(0))
        for row in rows
    ]


def slips_queryset(*, flow: Flow, period: Period) -> QuerySet:
    """History records where a next action kept its text and got a later due date."""
    History = Case.history.model
    previous = (
        History.objects.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(
                history_date=OuterRef("history_date"),
                history_id__lt=OuterRef("history_id"),
            )
        )
        .order_by("-history_date", "-history_id")
    )
    return (
        History.objects.filter(
            flow_id=flow.pk,
            history_date__gt=period.start,
            history_date__lte=period.end,
            next_action_due__isnull=False,
        )
        .exclude(next_action="")
        .alias(
            previous_due=Subquery(previous.values("next_action_due")[:1]),
            previous_action=Subquery(previous.values("next_action")[:1]),
        )
        .filter(previous_due__lt=F("next_action_due"), previous_action=F("next_action"))
    )


@dataclass
class Slips:
    total: int = 0
    by_owner: list[tuple[int | None, str, int]] = field(default_factory=list)


def promise_slips(*, flow: Flow, period: Period, names: dict[int, str]) -> Slips:
    """Next-action due dates pushed later (same action), per case owner. One query."""
    rows = (
        slips_queryset(flow=flow, period=period)
        .values("owner_id")
        .annotate(n=Count("history_id"))
        .order_by()
    )
    result = Slips()
    for row in sorted(rows, key=lambda r: -r["n"]):
        owner_id = row["owner_id"]
        name = names.get(owner_id, "") if owner_id else str(_("Non attribué"))
        result.by_owner.append((owner_id, name, row["n"]))
        result.total += row["n"]
    return result


# --- The page's figures, together -------------------------------------------------------------


@dataclass
class Insights:
    period: Period
    statuses: list[Status]
    time_in_status: list[StatusTime]
    cycle: CycleTime
    funnel: Funnel
    risk: MoneyAtRisk
    response: FirstResponse
    rework: Rework
    dependency: Dependency
    lost: list[LostReason]
    slips: Slips
    client_share: float | None


def owner_names() -> dict[int, str]:
    """Display names of every user who may own a case (one query)."""
    return {
        pk: (f"{first} {last}".strip() or username)
        for pk, username, first, last in get_user_model().objects.values_list(
            "pk", "username", "first_name", "last_name"
        )
    }


def compute(*, flow: Flow, statuses: list[Status], period: Period) -> Insights:
    """Every figure of the page: a fixed number of queries (thirteen)."""
    names = owner_names()
    today = timezone.localdate(period.end)
    times = time_in_status(flow=flow, statuses=statuses, period=period)
    total = sum((row.total for row in times), timedelta(0))
    client = sum((row.client for row in times), timedelta(0))
    return Insights(
        period=period,
        statuses=statuses,
        time_in_status=times,
        cycle=cycle_time(flow=flow, statuses=statuses, period=period),
        funnel=funnel(flow=flow, statuses=statuses, period=period),
        risk=money_at_risk(flow=flow, statuses=statuses, names=names, now=period.end),
        response=first_response(flow=flow, period=period),
        rework=rework(flow=flow, period=period),
        dependency=dependency(flow=flow, statuses=statuses, names=names, today=today),
        lost=lost_reasons(flow=flow, statuses=statuses, period=period),
        slips=promise_slips(flow=flow, period=period, names=names),
        client_share=(client / total) if total else None,
    )


# --- The cases behind a figure -------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    title: object  # lazy string
    definition: object


FIGURES: dict[str, Figure] = {
    "stale": Figure(
        _("Dossiers hors délai (argent en risque)"),
        _(
            "Dossiers en cours immobiles dans leur statut au-delà de son délai, "
            "attente du client déduite."
        ),
    ),
    "overdue": Figure(
        _("Relances en retard"),
        _("Dossiers en cours dont l'échéance de la prochaine action est passée."),
    ),
    "due_today": Figure(
        _("Prochaines actions pour aujourd'hui"),
        _("Dossiers en cours dont la prochaine action est à faire aujourd'hui."),
    ),
    "no_next_action": Figure(
        _("Dossiers sans prochaine action"),
        _("Dossiers en cours sans prochaine action ou sans échéance (hors attente)."),
    ),
    "waiting": Figure(
        _("En attente du client"),
        _("Dossiers mis en attente du client dont la date de retour est à venir."),
    ),
    "waiting_ends": Figure(
        _("Retour du client prévu aujourd'hui"),
        _("Dossiers dont l'attente du client se termine aujourd'hui."),
    ),
    "open": Figure(
        _("Dossiers en cours"),
        _("Dossiers dans un statut en cours, quel que soit leur âge."),
    ),
    "in_status": Figure(
        _("Passages par un statut"),
        _("Dossiers sortis de ce statut pendant la période, ou qui y sont encore."),
    ),
    "won": Figure(
        _("Dossiers signés"),
        _("Dossiers passés dans un statut gagné pendant la période."),
    ),
    "lost": Figure(
        _("Dossiers perdus"),
        _("Dossiers passés dans un statut perdu pendant la période."),
    ),
    "reached": Figure(
        _("Dossiers ayant atteint un statut"),
        _("Dossiers créés pendant la période qui sont passés par ce statut."),
    ),
    "leads": Figure(
        _("Nouveaux leads"),
        _("Dossiers créés pendant la période."),
    ),
    "late_response": Figure(
        _("Leads sans réponse sous un jour ouvré"),
        _(
            "Leads de la période sans premier déplacement ni action faite dans "
            "le jour ouvré qui a suivi leur arrivée."
        ),
    ),
    "blocked": Figure(
        _("Déplacements refusés (erreurs évitées)"),
        _(
            "Dossiers dont un déplacement a été refusé par une règle pendant la période."
        ),
    ),
    "overrides": Figure(
        _("Forçages"),
        _("Dossiers déplacés par un responsable malgré une checklist incomplète."),
    ),
    "backward": Figure(
        _("Retours en arrière (reprises)"),
        _("Dossiers renvoyés vers un statut en cours antérieur pendant la période."),
    ),
    "slips": Figure(
        _("Promesses repoussées"),
        _(
            "Dossiers dont l'échéance d'une même prochaine action a été repoussée "
            "pendant la période."
        ),
    ),
}

CASE_LIST_LIMIT = 200


def figure_cases(
    figure: str,
    *,
    flow: Flow,
    statuses: list[Status],
    period: Period,
    status: str = "",
    owner: str = "",
    guard: str = "",
    reason: str | None = None,
) -> QuerySet[Case] | list[Case]:
    """The cases behind one figure of the page (unordered queryset or list)."""
    today = timezone.localdate(period.end)
    cases = _in_flow(flow)
    by_code = {s.code: s for s in statuses}
    chosen = by_code.get(status)
    if figure == "stale":
        cases = cases.filter(selectors.stale_q(statuses, period.end))
    elif figure == "overdue":
        cases = cases.filter(selectors.overdue_q(today))
    elif figure == "due_today":
        cases = cases.filter(selectors.due_today_q(today))
    elif figure == "no_next_action":
        cases = cases.filter(
            selectors.no_next_action_q(today),
            status__in=_codes(statuses, Status.Kind.OPEN),
        )
    elif figure == "waiting":
        cases = cases.filter(selectors.waiting_q(today))
    elif figure == "waiting_ends":
        cases = cases.filter(selectors.waiting_ends_q(today))
    elif figure == "open":
        cases = cases.filter(status__in=_codes(statuses, Status.Kind.OPEN))
    elif figure == "in_status" and chosen is not None:
        left = StatusChange.objects.filter(
            from_status=chosen, at__gt=period.start, at__lte=period.end
        ).values("case_id")
        cases = cases.filter(Q(pk__in=left) | Q(status=chosen.code))
    elif figure == "won":
        cases = cases.filter(
            status__in=_codes(statuses, Status.Kind.WON),
            closed_at__gt=period.start,
            closed_at__lte=period.end,
        )
    elif figure == "lost":
        cases = cases.filter(
            status__in=_codes(statuses, Status.Kind.LOST),
            closed_at__gt=period.start,
            closed_at__lte=period.end,
        )
        if reason is not None:
            cases = cases.filter(lost_reason=reason)
    elif figure == "reached" and chosen is not None:
        cases = cases.filter(
            created_at__gt=period.start,
            created_at__lte=period.end,
            pk__in=StatusChange.objects.filter(to_status=chosen).values("case_id"),
        )
    elif figure == "leads":
        cases = cases.filter(created_at__gt=period.start, created_at__lte=period.end)
    elif figure == "late_response":
        rows = cases.filter(
            created_at__gt=period.start, created_at__lte=period.end
        ).values_list("pk", "created_at", "first_response_at")
        late = [
            pk
            for pk, created, responded in rows
            if response_of(created, responded, period.end) == "late"
        ]
        cases = cases.filter(pk__in=late)
    elif figure == "blocked":
        events = blocked_events(flow=flow, period=period).values_list("case_id", "data")
        ids = {
            case_id
            for case_id, data in events
            if not guard or guard in (data or {}).get("failures", [])
        }
        cases = cases.filter(pk__in=ids)
    elif figure == "overrides":
        cases = cases.filter(
            pk__in=StatusChange.objects.filter(
                override=True, at__gt=period.start, at__lte=period.end
            ).values("case_id")
        )
    elif figure == "backward":
        cases = cases.filter(
            pk__in=StatusChange.objects.filter(
                graph.backward_q(), at__gt=period.start, at__lte=period.end
            ).values("case_id")
        )
    elif figure == "slips":
        slipped = slips_queryset(flow=flow, period=period)
        if owner.isdigit():
            slipped = slipped.filter(owner_id=int(owner))
        elif owner == "none":
            slipped = slipped.filter(owner_id__isnull=True)
        return cases.filter(pk__in=slipped.values("id"))
    else:
        return Case.objects.none()
    if status and chosen is not None and figure not in ("in_status", "reached"):
        cases = cases.filter(status=chosen.code)
    if owner.isdigit():
        cases = cases.filter(owner_id=int(owner))
    elif owner == "none":
        cases = cases.filter(owner__isnull=True)
    return cases


# --- Diagnostic: the ten-statement self-test (DESIGN §1) -----------------------------------------


@dataclass(frozen=True)
class Statement:
    text: object  # lazy string
    measure: object  # what in Pilote measures it
    url_name: str
    anchor: str = ""
    # Insights are for managers: members get `member_url_name` instead.
    managers_only: bool = False
    member_url_name: str = ""
    member_measure: object = ""


STATEMENTS: tuple[Statement, ...] = (
    Statement(
        _(
            "La même information vit à plusieurs endroits, et les copies ne disent pas la même chose."
        ),
        _("Le tableau : une fiche par dossier, une seule source de vérité"),
        "flows:board",
    ),
    Statement(
        _("Pour savoir où en est un dossier, il faut demander à quelqu'un."),
        _("Le tableau : statut, responsable et prochaine action de chaque dossier"),
        "flows:board",
    ),
    Statement(
        _(
            "Chaque semaine, quelqu'un recopie des données d'un outil à l'autre à la main."
        ),
        _("Nouveau dossier : saisi une fois, avec l'alerte de doublon"),
        "flows:case_new",
    ),
    Statement(
        _(
            "Les validations se font dans des messageries et des e-mails, et s'y perdent."
        ),
        _("Indicateurs : forçages et déplacements réservés, tracés"),
        "flows:insights",
        "#errors",
        managers_only=True,
        member_url_name="flows:flow_map",
        member_measure=_("La carte du flux : qui peut faire quel déplacement"),
    ),
    Statement(
        _("Du travail est déjà parti sous stress alors que « tout était prêt »."),
        _("Indicateurs : erreurs évitées par les checklists"),
        "flows:insights",
        "#errors",
        managers_only=True,
        member_url_name="flows:flow_map",
        member_measure=_("La carte du flux : la checklist de chaque statut"),
    ),
    Statement(
        _("Une facture, une relance ou un document a déjà été oublié."),
        _("Ma journée : relances en retard et pour aujourd'hui"),
        "flows:today",
    ),
    Statement(
        _("Personne ne sait précisément ce qui prend le temps de l'équipe."),
        _("Indicateurs : temps passé dans chaque statut"),
        "flows:insights",
        "#time-in-status",
        managers_only=True,
        member_url_name="flows:board",
        member_measure=_("Le tableau : jours passés dans le statut"),
    ),
    Statement(
        _("Une personne est indispensable au fonctionnement quotidien."),
        _("Indicateurs : dépendance à une personne"),
        "flows:insights",
        "#dependency",
        managers_only=True,
        member_url_name="flows:board",
        member_measure=_("Le tableau, filtré par responsable"),
    ),
    Statement(
        _("L'équipe hésite à prendre plus de travail parce que « ça va exploser »."),
        _("Indicateurs : argent en risque dans les dossiers hors délai"),
        "flows:insights",
        "#money-at-risk",
        managers_only=True,
        member_url_name="flows:today",
        member_measure=_("Ma journée : mes dossiers hors délai"),
    ),
    Statement(
        _("Certaines réunions existent surtout pour que tout le monde soit à jour."),
        _("Le tableau, partagé et à jour en permanence"),
        "flows:board",
    ),
)

SYSTEM_THRESHOLD = 4


def interpretation(score: int) -> object:
    if score >= SYSTEM_THRESHOLD:
        return _(
            "Le problème est le système, pas l'effort : l'équipe travaille, mais "
            "l'organisation lui fait perdre du temps et de l'argent."
        )
    return _(
        "Peu de signes de désordre : gardez le cap, et refaites le test dans "
        "quelques mois."
    )


def record_diagnostic(*, user, answers: Sequence[bool]) -> DiagnosticResult:
    """Save one answer sheet of `user` (ten yes/no answers); raise ValueError."""
    answers = [bool(answer) for answer in answers]
    if len(answers) != len(STATEMENTS):
        raise ValueError(f"expected {len(STATEMENTS)} answers, got {len(answers)}")
    return DiagnosticResult.objects.create(
        user=user, answers=answers, score=sum(answers), created_at=clock.now()
    )


@dataclass
class TeamDiagnostic:
    people: int = 0
    average: float | None = None
    at_or_above_threshold: int = 0
    yes_share: list[float] = field(default_factory=list)  # per statement


def team_diagnostic() -> TeamDiagnostic:
    """The latest result of each person who took the test, averaged. One query."""
    latest = (
        DiagnosticResult.objects.filter(user=OuterRef("user"))
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    rows = list(
        DiagnosticResult.objects.filter(pk=Subquery(latest)).values_list(
            "score", "answers"
        )
    )
    result = TeamDiagnostic(people=len(rows))
    if not rows:
        return result
    result.average = sum(score for score, _answers in rows) / len(rows)
    result.at_or_above_threshold = sum(
        1 for score, _answers in rows if score >= SYSTEM_THRESHOLD
    )
    result.yes_share = [
        sum(1 for _score, answers in rows if index < len(answers) and answers[index])
        / len(rows)
        for index in range(len(STATEMENTS))
    ]
    return result
