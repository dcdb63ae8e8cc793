"""The board's cases as CSV, with the board's filters (GET /board/export/)."""

from __future__ import annotations

from dataclasses import asdict

from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit import refusals
from audit import services as audit
from config import clock
from config.http import HtmxHttpRequest
from flows import access
from flows.engine import selectors
from flows.intake import exports


@require_GET
def board_export(request: HtmxHttpRequest) -> StreamingHttpResponse:
    """Every case the filtered board holds (not only the cards on screen).

    `?format=excel` for Excel in France; plain UTF-8 CSV otherwise. Limited
    to what the user may see, and recorded as an `export` event.
    """
    if not access.is_member(request.user):
        raise refusals.AccessRefused(
            _("Seuls les membres de l'équipe exportent des dossiers."), action="export"
        )
    statuses = selectors.active_statuses()
    if not statuses:
        raise Http404
    flow = statuses[0].flow
    filters = selectors.BoardFilters.from_query(request.GET)
    excel = request.GET.get("format") == "excel"
    cases = selectors.filtered_cases(
        flow=flow, user=request.user, filters=filters, statuses=statuses
    )
    audit.record(
        "export",
        user=request.user,
        data={
            "what": "board",
            "filters": asdict(filters),
            "format": "excel" if excel else "csv",
            "rows": cases.count(),
        },
    )
    response = StreamingHttpResponse(
        exports.csv_lines(cases, statuses, excel=excel, titles=exports.headers()),
        content_type="text/csv; charset=utf-8",
    )
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="pilote-dossiers-{stamp}.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
