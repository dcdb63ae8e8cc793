"""My day and the flow map: two read-only pages for every team member.

Both run a fixed number of queries whatever the number of cases, statuses
or transitions: the tests in tests/flows/test_pages.py hold them to it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from flows import access
from flows.engine import selectors
from flows.workspace import diagram, flow_rules
from flows.workspace import my_day as my_day_lists


@require_GET
@access.member_required
def my_day(request: HttpRequest) -> HttpResponse:
    flow = selectors.active_flow()
    context: dict = {
        "flow": flow,
        "sections": [],
        "section_limit": my_day_lists.SECTION_LIMIT,
    }
    if flow is not None:
        context["sections"] = my_day_lists.my_day_sections(
            flow=flow, statuses=selectors.statuses_of(flow), user=request.user
        )
    return render(request, "flows/my_day.html", context)


@require_GET
@access.member_required
def flow_map(request: HttpRequest) -> HttpResponse:
    flow = selectors.active_flow()
    context: dict = {"flow": flow}
    if flow is not None:
        rules, transitions = flow_rules.status_rules(flow)
        context["rules"] = rules
        context["diagram"] = diagram.layout(
            [rule.status for rule in rules], transitions
        )
    return render(request, "flows/flow_map.html", context)
