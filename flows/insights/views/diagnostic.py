"""The "digital disorder" self-test: ten yes/no statements (DESIGN §1)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from flows import access
from flows.insights import diagnostic as self_test
from flows.insights.forms import DiagnosticForm

PAST_RESULTS_SHOWN = 12


def _statement_rows(form: DiagnosticForm, *, is_manager: bool) -> list[dict]:
    rows = []
    for index, statement in enumerate(self_test.STATEMENTS, start=1):
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
@access.member_required
def diagnostic(request: HttpRequest) -> HttpResponse:
    """Answer the test, see the score and its meaning, and past results."""
    statements = [statement.text for statement in self_test.STATEMENTS]
    if request.method == "POST":
        form = DiagnosticForm(request.POST, statements=statements)
        if form.is_valid():
            result = self_test.record_diagnostic(
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
    past = self_test.past_results(user=request.user, limit=PAST_RESULTS_SHOWN)
    latest = past[0] if past else None
    context = {
        "form": form,
        "rows": _statement_rows(form, is_manager=is_manager),
        "latest": latest,
        "interpretation": self_test.interpretation(latest.score) if latest else "",
        "is_system": bool(latest and latest.score >= self_test.SYSTEM_THRESHOLD),
        "threshold": self_test.SYSTEM_THRESHOLD,
        "past": past,
        "latest_yes": [
            (statement.text, answer)
            for statement, answer in zip(
                self_test.STATEMENTS, latest.answers if latest else [], strict=False
            )
            if answer
        ],
        "team": self_test.team_diagnostic() if is_manager else None,
        "is_manager": is_manager,
    }
    if context["team"] and context["team"].yes_share:
        context["team_rows"] = [
            {"text": statement.text, "share": round(share * 100)}
            for statement, share in zip(
                self_test.STATEMENTS, context["team"].yes_share, strict=True
            )
        ]
    return render(request, "flows/diagnostic.html", context)
