"""How long things take: time in each status, lead to signature, first response."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from flows.engine import selectors
from flows.insights.periods import (
    Period,
    duration,
    flow_cases,
    kind_codes,
    percentile,
    seconds,
)
from flows.models import Flow, Status, StatusChange

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
        total = self.total.total_seconds()
        return self.client.total_seconds() / total if total else None


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
        spent_s, waited_s = seconds(spent), seconds(waited)
        team[status_id].append(max(spent_s - waited_s, 0.0))
        client[status_id] += waited_s
        total[status_id] += spent_s
    current = (
        flow_cases(flow)
        .filter(status__in=list(by_code))
        .values_list(
            "status", "status_entered_at", "waiting_in_status", "waiting_until"
        )
    )
    for code, entered, waiting, until in current:
        status_id = by_code[code].pk
        spent_s = max((period.end - entered).total_seconds(), 0.0)
        waited_s = seconds(selectors.waited_so_far(waiting, until, period.end))
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
                median=duration(percentile(values, 0.5)),
                p90=duration(percentile(values, 0.9)),
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
        flow_cases(flow)
        .filter(
            status__in=kind_codes(statuses, Status.Kind.WON),
            closed_at__gt=period.start,
            closed_at__lte=period.end,
        )
        .values_list("created_at", "closed_at")
    )
    values = [(closed - created).total_seconds() for created, closed in rows]
    return CycleTime(
        count=len(values),
        median=duration(percentile(values, 0.5)),
        p90=duration(percentile(values, 0.9)),
    )


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
        flow_cases(flow)
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
    result.median = duration(percentile(delays, 0.5))
    return result
