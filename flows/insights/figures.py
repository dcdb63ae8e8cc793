"""The hidden cost, measured: every figure of /insights/, together.

Each figure is one aggregate query (or one narrow `values_list`) whatever the
number of cases, so the page's query count is fixed (tests/flows/
test_insights.py holds it to that at 50 and 5,000 cases). The figures
themselves live by concern: `speed` (time in status, cycle time, first
response), `outcomes` (funnel, money at risk, lost reasons), `team` (rework,
dependency, promise slips); percentiles and periods in `periods`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from flows import access
from flows.insights import outcomes, speed, team
from flows.insights.periods import Period
from flows.models import Flow, Status


@dataclass
class Insights:
    period: Period
    statuses: list[Status]
    time_in_status: list[speed.StatusTime]
    cycle: speed.CycleTime
    funnel: outcomes.Funnel
    risk: outcomes.MoneyAtRisk
    response: speed.FirstResponse
    rework: team.Rework
    dependency: team.Dependency
    lost: list[outcomes.LostReason]
    slips: team.Slips
    client_share: float | None


def owner_names() -> dict[int, str]:
    """Display names of every user who may own a case (one query)."""
    users = get_user_model().objects.only("username", "first_name", "last_name")
    return {user.pk: access.display_name(user) for user in users}


def compute(*, flow: Flow, statuses: list[Status], period: Period) -> Insights:
    """Every figure of the page: a fixed number of queries (thirteen)."""
    names = owner_names()
    today = timezone.localdate(period.end)
    times = speed.time_in_status(flow=flow, statuses=statuses, period=period)
    total = sum((row.total for row in times), timedelta(0))
    client = sum((row.client for row in times), timedelta(0))
    return Insights(
        period=period,
        statuses=statuses,
        time_in_status=times,
        cycle=speed.cycle_time(flow=flow, statuses=statuses, period=period),
        funnel=outcomes.funnel(flow=flow, statuses=statuses, period=period),
        risk=outcomes.money_at_risk(
            flow=flow, statuses=statuses, names=names, now=period.end
        ),
        response=speed.first_response(flow=flow, period=period),
        rework=team.rework(flow=flow, period=period),
        dependency=team.dependency(
            flow=flow, statuses=statuses, names=names, today=today
        ),
        lost=outcomes.lost_reasons(flow=flow, statuses=statuses, period=period),
        slips=team.promise_slips(flow=flow, period=period, names=names),
        client_share=(client / total) if total else None,
    )
