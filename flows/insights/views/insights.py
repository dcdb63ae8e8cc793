"""Insights (managers): the hidden cost, measured, and the cases behind it.

Figures come from flows.insights.figures, charts from .charts, tables from
.tables, the case lists from .case_lists: these views only read the request.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from config import http
from flows.access import manager_required
from flows.engine import selectors
from flows.insights import case_lists, charts, figures, periods, tables
from flows.insights.team import GUARD_LABELS


@require_GET
@manager_required
def insights(request: HttpRequest) -> HttpResponse:
    statuses = selectors.active_statuses()
    period = periods.period_of(http.query_int(request.GET, "days"))
    context: dict = {"period": period, "periods": periods.PERIODS, "statuses": statuses}
    if not statuses:
        return render(request, "flows/insights.html", context)
    flow = statuses[0].flow
    data = figures.compute(flow=flow, statuses=statuses, period=period)
    days = period.days
    context |= {
        "flow": flow,
        "data": data,
        "charts": charts.insight_charts(data, days),
    }
    context |= tables.insight_tables(data, days)
    return render(request, "flows/insights.html", context)


@require_GET
@manager_required
def insight_cases(request: HttpRequest) -> HttpResponse:
    """The list of cases behind one figure of the insights page."""
    key = request.GET.get("figure", "")
    figure = case_lists.FIGURES.get(key)
    if figure is None:
        raise Http404
    statuses = selectors.active_statuses()
    period = periods.period_of(http.query_int(request.GET, "days"))
    context: dict = {"figure": figure, "key": key, "period": period, "cases": []}
    if not statuses:
        return render(request, "flows/insight_cases.html", context)
    flow = statuses[0].flow
    status = request.GET.get("status", "")
    owner = case_lists.owner_of(request.GET)
    guard = request.GET.get("guard", "")
    reason = request.GET.get("reason")
    if reason == "-":
        reason = ""  # lost without a written reason
    cases = case_lists.figure_cases(
        key,
        flow=flow,
        statuses=statuses,
        period=period,
        status=status,
        owner=owner,
        guard=guard,
        reason=reason,
    )
    limit = case_lists.CASE_LIST_LIMIT
    rows = list(
        cases.select_related("owner").order_by("status_entered_at", "pk")[: limit + 1]
    )
    by_code = {s.code: s for s in statuses}
    context |= {
        "flow": flow,
        "cases": selectors.decorate(rows[:limit], statuses),
        "truncated": len(rows) > limit,
        "limit": limit,
        "status_label": by_code[status].label if status in by_code else "",
        "guard_label": GUARD_LABELS.get(guard, ""),
        "reason": reason,
        "owner_name": case_lists.owner_label(owner),
        "back_url": reverse("flows:insights") + f"?days={period.days}",
    }
    return render(request, "flows/insight_cases.html", context)
