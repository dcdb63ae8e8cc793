"""The audit log for managers: filters, CSV export, chain status."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit import selectors, services
from config import csv as safe_csv
from config import http

# The managers' permission (flows.access gives it to the manager role and
# above); audit reads no other app. A refusal is a 403 that
# audit.refusals records.
manager_required = permission_required("audit.view_auditevent", raise_exception=True)


@require_GET
@manager_required
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = selectors.LogFilters.from_query(request.GET)
    before = http.query_int(request.GET, "before", minimum=1)
    events, next_before = selectors.log_page(filters, before=before)
    query = {k: v for k, v in request.GET.items() if k != "before" and v}
    head_sequence, head_hash = services.head()
    context = {
        "events": events,
        "filters": filters,
        "actions": selectors.known_actions(),
        "filter_query": urlencode(query),
        "next_url": "?" + urlencode({**query, "before": next_before})
        if next_before
        else "",
        "verification": selectors.last_verification(),
        "head_sequence": head_sequence,
        "head_hash": head_hash,
    }
    return render(request, "audit/log.html", context)


@require_GET
@manager_required
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered log as CSV (UTF-8 with BOM, semicolons: Excel in France)."""
    filters = selectors.LogFilters.from_query(request.GET)
    services.record(
        "export",
        user=request.user,
        data={"what": "audit_log", "filters": request.GET.dict()},
    )
    header = [
        "sequence",
        "at",
        "actor",
        "action",
        "case",
        "object",
        "data",
        "ip",
        "user_agent",
        "request_id",
        "hash",
    ]

    def rows():
        # The user agent, the actor label and the data are anyone's text (a
        # failed login, a visitor of a public page): safe_csv neutralises
        # every cell.
        for event in (
            selectors.filtered_events(filters)
            .order_by("sequence")
            .iterator(chunk_size=2000)
        ):
            yield [
                event.sequence,
                timezone.localtime(event.at).isoformat(),
                event.actor_label,
                event.action,
                event.case.reference if event.case else "",
                f"{event.object_type}:{event.object_id}" if event.object_type else "",
                event.data,
                event.ip or "",
                event.user_agent,
                event.request_id,
                event.hash,
            ]

    lines = safe_csv.lines(header, rows(), delimiter=safe_csv.EXCEL_DELIMITER, bom=True)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="pilote-audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@manager_required
def audit_verify_now(request: HttpRequest) -> HttpResponse:
    report = services.verify_chain()
    services.save_verification(report)
    if report.ok:
        messages.success(
            request,
            _("Chaîne intacte : %(n)s événements vérifiés.") % {"n": report.checked},
        )
    else:
        messages.error(
            request,
            _("Chaîne rompue à l'événement %(seq)s : %(reason)s")
            % {"seq": report.first_broken, "reason": report.reason},
        )
    return redirect("audit:log")
