"""The "digital disorder" self-test: ten yes/no statements (DESIGN §1)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from flows import access
from flows.insights import figures
from flows.models import DiagnosticResult
from flows.workspace.forms import DiagnosticForm
from flows.workspace.views.pages import _require_role

PAST_RESULTS_SHOWN = 12


def _statement_rows(form: DiagnosticForm, *, is_manager: bool) -> list[dict]:
    rows = []
    for index, statement in enumerate(figures.STATEMENTS, start=1):
        member_view = statement.managers_only and not is_manager
        url_name = statement.member_url_name if member_view else statement.url_name
        rows.append(
            {
                "number": index,
                "field": form[f"q{index}"],
                "text": statement.text,
                "measure": statement.member_measure
                if member_view
                else statement.measure,
                "url": reverse(url_name) + ("" if member_view else statement.anchor),
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
def diagnostic(request: HttpRequest) -> HttpResponse:
    """Answer the test, see the score and its meaning, and past results."""
    _require_role(request)
    statements = [statement.text for statement in figures.STATEMENTS]
    if request.method == "POST":
        form = DiagnosticForm(request.POST, statements=statements)
        if form.is_valid():
            result = figures.record_diagnostic(
                user=request.user, answers=form.answers()
            )
            messages.success(
                request,
                _("Diagnostic enregistré : %(score)s « oui » sur 10.")
                % {"score": result.score},
            )
            return redirect(reverse("flows:diagnostic") + "#diagnostic-result")
    else:
        form = DiagnosticForm(statements=statements)
    is_manager = access.is_manager(request.user)
    past = list(
        DiagnosticResult.objects.filter(user=request.user).order_by(
            "-created_at", "-pk"
        )[:PAST_RESULTS_SHOWN]
    )
    latest = past[0] if past else None
    context = {
        "form": form,
        "rows": _statement_rows(form, is_manager=is_manager),
        "latest": latest,
        "interpretation": figures.interpretation(latest.score) if latest else "",
        "is_system": bool(latest and latest.score >= figures.SYSTEM_THRESHOLD),
        "threshold": figures.SYSTEM_THRESHOLD,
        "past": past,
        "latest_yes": [
            (statement.text, answer)
            for statement, answer in zip(
                figures.STATEMENTS, latest.answers if latest else [], strict=False
            )
            if answer
        ],
        "team": figures.team_diagnostic() if is_manager else None,
        "is_manager": is_manager,
    }
    if context["team"] and context["team"].yes_share:
        context["team_rows"] = [
            {"text": statement.text, "share": round(share * 100)}
            for statement, share in zip(
                figures.STATEMENTS, context["team"].yes_share, strict=True
            )
        ]
    return render(request, "flows/diagnostic.html", context)
