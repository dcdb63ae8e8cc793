"""New case page, with duplicate warnings while typing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from audit import refusals
from config.http import HtmxHttpRequest
from flows import access
from flows.engine import duplicates, selectors, services
from flows.models import Case
from flows.workspace.forms import NewCaseForm

TEMPLATE = "flows/case_new.html"
# The fields compared with existing cases.
DUPLICATE_FIELDS = ("email", "phone", "company")


def _check_may_create(request: HtmxHttpRequest) -> None:
    """Refuse (403, audited) anyone without a role."""
    if not access.is_member(request.user):
        raise refusals.AccessRefused(
            _("Seuls les membres de l'équipe créent des dossiers."),
            action="create_case",
        )


def _duplicates_for(data: QueryDict) -> list[tuple[Case, list[str]]]:
    return duplicates.duplicate_candidates(
        **{name: data.get(name, "") for name in DUPLICATE_FIELDS}
    )


def _warn_while_typing(form: NewCaseForm) -> None:
    # With htmx, typing in a contact field asks for the duplicates block. Only
    # the warning is fetched: the form itself is a plain POST. hx-select keeps
    # the #duplicates live region in place (innerHTML swap of its children)
    # so screen readers announce the new content. No trigger filter: htmx
    # runs with allowEval false under the CSP.
    attrs = {
        "hx-get": reverse("flows:case_duplicates"),
        "hx-trigger": "input changed delay:400ms",
        "hx-target": "#duplicates",
        "hx-select": "#duplicates > *",
        "hx-include": "[name=email],[name=phone],[name=company]",
        "hx-sync": "closest form:replace",
        "aria-controls": "duplicates",
    }
    for name in DUPLICATE_FIELDS:
        form.fields[name].widget.attrs.update(attrs)


def _add_service_errors(form: NewCaseForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@require_http_methods(["GET", "POST"])
def case_new(request: HtmxHttpRequest) -> HttpResponse:
    _check_may_create(request)
    flow = selectors.active_flow()
    if flow is None:
        return render(request, TEMPLATE, {"flow": None, "form": None})
    owners = access.team_members()
    duplicates: list[tuple[Case, list[str]]] = []
    if request.method == "POST":
        form = NewCaseForm(request.POST, owners=owners)
        if form.is_valid():
            try:
                case = services.create_case(
                    flow=flow,
                    user=request.user,
                    owner=form.cleaned_data["owner"],
                    **form.changes(),
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                # Duplicates do not block: the warning was shown while typing
                # (or after a refused submit); creating anyway is allowed.
                messages.success(
                    request,
                    _("Dossier %(reference)s créé.") % {"reference": case.reference},
                )
                return redirect(case)
        # Without JavaScript the warning comes with the re-rendered form.
        duplicates = _duplicates_for(request.POST)
    else:
        form = NewCaseForm(owners=owners, initial={"owner": request.user.pk})
    _warn_while_typing(form)
    context = {"flow": flow, "form": form, "duplicates": duplicates}
    return render(request, TEMPLATE, context)


@require_GET
@vary_on_headers("HX-Request")
def case_duplicates(request: HtmxHttpRequest) -> HttpResponse:
    """The duplicates block for what is typed in the new case form."""
    _check_may_create(request)
    if not request.htmx or request.htmx.history_restore_request:
        # A fragment is only for htmx; a direct visit gets the page.
        return redirect("flows:case_new")
    context = {"duplicates": _duplicates_for(request.GET)}
    return render(request, f"{TEMPLATE}#duplicates", context)
