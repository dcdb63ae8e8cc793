"""The board: one column per status, filters in the query string, guarded moves."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.http import HtmxHttpRequest
from flows import access
from flows.engine import selectors
from flows.workspace import columns

# Managers' boards refresh themselves while visible, for meetings.
MANAGER_REFRESH_SECONDS = 30


def board_context(request: HtmxHttpRequest, filters: selectors.BoardFilters) -> dict:
    statuses, transitions = columns.board_setup()
    if not statuses:
        return {"statuses": [], "filters": filters}
    flow = statuses[0].flow
    board_columns = columns.board_columns(
        flow=flow,
        user=request.user,
        filters=filters,
        statuses=statuses,
        transitions=transitions,
    )
    query = filters.querystring()
    for column in board_columns:
        column.more_url = (
            more_url(column.status.code, query, column.next_cursor)
            if column.next_cursor
            else ""
        )
    board_url = reverse("flows:board") + (f"?{query}" if query else "")
    return {
        "flow": flow,
        "statuses": statuses,
        "columns": board_columns,
        "filters": filters,
        "filter_query": query,
        "board_url": board_url,
        "closed_days": selectors.BOARD_CLOSED_DAYS,
        "owners": access.team_members(),
        "refresh_seconds": MANAGER_REFRESH_SECONDS
        if access.is_manager(request.user)
        else 0,
    }


@require_GET
@vary_on_headers("HX-Request")
@access.member_required
def board(request: HtmxHttpRequest) -> HttpResponse:
    filters = selectors.BoardFilters.from_query(request.GET)
    context = board_context(request, filters)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "flows/board.html#board", context)
    return render(request, "flows/board.html", context)


@require_GET
@vary_on_headers("HX-Request")
@access.member_required
def board_column(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The next cards of one column ("load more"); a page of its own without JS."""
    statuses, transitions = columns.board_setup()
    status = next((s for s in statuses if s.code == code), None)
    if status is None:
        raise Http404
    filters = selectors.BoardFilters.from_query(request.GET)
    cards, cursor = columns.column_page(
        flow=status.flow,
        user=request.user,
        filters=filters,
        status=status,
        statuses=statuses,
        transitions=transitions,
        after=request.GET.get("after", ""),
    )
    query = filters.querystring()
    context = {
        "status": status,
        "cards": cards,
        "next_cursor": cursor,
        "filters": filters,
        "filter_query": query,
        "board_url": reverse("flows:board") + (f"?{query}" if query else ""),
        "more_url": more_url(status.code, query, cursor) if cursor else "",
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "flows/board.html#column-page", context)
    return render(request, "flows/board_column.html", context)


def more_url(code: str, filter_query: str, cursor: str) -> str:
    params = f"{filter_query}&" if filter_query else ""
    return (
        reverse("flows:board_column", args=[code])
        + "?"
        + params
        + urlencode({"after": cursor})
    )
