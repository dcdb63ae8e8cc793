"""Documents and quotes on the case page, and downloads (public page: public_views).

Access is checked here on every request, HTMX fragments included: team
members read every case's documents and quotes; only those who may act on
the case upload, build, issue, send or revise (403 and an audit event
otherwise).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit import refusals
from config.forms import add_service_errors
from config.http import HtmxHttpRequest, parse_int
from documents import forms, money, panels, responses, selectors, services
from documents.models import Document, Quote
from flows import access
from flows.engine import guards
from flows.engine import services as flow_services
from flows.models import Case
from flows.workspace.views.cases import case_context

PANELS = "documents/_case_panels.html"


# --- Helpers ----------------------------------------------------------------------


def _case_for(request: HtmxHttpRequest, reference: str) -> Case:
    return access.visible_case_or_404(request.user, reference)


def _quote_for(case: Case, pk: int) -> Quote:
    quote = Quote.objects.select_related("pdf").filter(pk=pk, case=case).first()
    if quote is None:
        raise refusals.not_found(Quote, case=case, pk=pk)
    return quote


def _htmx_partial(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


def _render_case(
    request: HtmxHttpRequest, case: Case, *, partial: str, status: int = 200, **bound
) -> HttpResponse:
    """The updated panel for HTMX, else the whole case page."""
    if _htmx_partial(request):
        context = {"case": case} | panels.case_panels(case, user=request.user, **bound)
        return render(request, f"{PANELS}#{partial}", context, status=status)
    context = case_context(request, case, **bound)
    return render(request, "flows/case_detail.html", context, status=status)


def _done(request: HtmxHttpRequest, case: Case, anchor: str, partial: str):
    """After a write: the fresh panel (HTMX) or a redirect (PRG)."""
    if _htmx_partial(request):
        return _render_case(request, case, partial=partial)
    return redirect(case.get_absolute_url() + f"#{anchor}")


# --- Documents --------------------------------------------------------------------


@require_POST
def document_upload(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    case = _case_for(request, reference)
    # Refused (403, audited) before the file is even looked at.
    flow_services.check_can_act(case, user=request.user, action="upload_document")
    form = forms.UploadForm(
        request.POST, request.FILES, categories=selectors.categories()
    )
    if form.is_valid():
        try:
            document = services.upload_document(
                case,
                user=request.user,
                file=form.cleaned_data["file"],
                category=form.cleaned_data["category"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("« %(title)s » est joint (version %(version)s).")
                % {"title": document.title, "version": document.version},
            )
            return _done(request, case, "documents", "documents")
    return _render_case(request, case, partial="documents", upload_form=form)


@require_GET
def document_download(
    request: HtmxHttpRequest, reference: str, pk: int
) -> FileResponse:
    case = _case_for(request, reference)
    document = Document.objects.filter(pk=pk, case=case).first()
    if document is None:
        raise refusals.not_found(Document, case=case, pk=pk)
    response = responses.file_response(document)
    services.record_download(document, user=request.user)
    return response


# --- Quotes on the case page ------------------------------------------------------


@require_POST
def quote_create(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    case = _case_for(request, reference)
    services.create_quote(case, user=request.user)
    return _done(request, case, "quotes", "quotes")


def _bound_builder(request: HtmxHttpRequest, quote: Quote):
    form = forms.QuoteForm(request.POST, instance=quote)
    formset = forms.LineFormSet(request.POST, prefix=forms.LINES_PREFIX)
    return form, formset


def _reordered(lines: list, action: str) -> list:
    """Apply remove-N / up-N / down-N (N: the row index) to [(index, line)]."""
    verb, _sep, raw = action.partition("-")
    index = parse_int(raw, minimum=0)
    if index is None:
        return lines
    positions = [i for i, _line in lines]
    if index not in positions:
        return lines
    at = positions.index(index)
    if verb == "remove":
        lines = lines[:at] + lines[at + 1 :]
    elif verb == "up" and at > 0:
        lines[at - 1], lines[at] = lines[at], lines[at - 1]
    elif verb == "down" and at < len(lines) - 1:
        lines[at + 1], lines[at] = lines[at], lines[at + 1]
    return lines


def _expected_version(request: HtmxHttpRequest) -> int | None:
    """The draft's edit_version the user loaded, if the form sent one."""
    try:
        return int(request.POST.get("edit_version", ""))
    except ValueError:
        return None


def _changed_message(changed: services.QuoteChanged) -> str:
    return guards.edit_conflict_message(
        by=changed.by or _("quelqu'un d'autre"), at=changed.at
    )


def _issue(request: HtmxHttpRequest, case: Case, quote: Quote) -> HttpResponse:
    """Issue the saved draft, or show the mentions it still lacks."""
    try:
        quote = services.issue_quote(quote, user=request.user)
    except services.QuoteIncomplete as incomplete:
        return _render_case(
            request,
            case,
            partial="quotes",
            status=409 if _htmx_partial(request) else 200,
            missing_mentions=incomplete.missing,
        )
    messages.success(
        request,
        _("Devis %(reference)s émis : le PDF est joint au dossier.")
        % {"reference": quote.reference},
    )
    return _done(request, case, "quotes", "quotes")


@require_POST
def quote_save(request: HtmxHttpRequest, reference: str, pk: int) -> HttpResponse:
    """Save the draft; then add, remove or move a line, or issue it."""
    case = _case_for(request, reference)
    quote = _quote_for(case, pk)
    flow_services.check_can_act(case, user=request.user, action="edit_quote")
    if not quote.is_editable:
        messages.error(request, _("Ce devis est émis : il ne change plus."))
        return _done(request, case, "quotes", "quotes")
    form, formset = _bound_builder(request, quote)
    action = request.POST.get("action", "save")
    if not (form.is_valid() and formset.is_valid()):
        return _render_case(
            request, case, partial="quotes", quote_form=form, line_formset=formset
        )
    lines = [(index, row.line()) for index, row in formset.filled()]
    lines = _reordered(lines, action)
    try:
        quote = services.save_draft(
            quote,
            user=request.user,
            fields=form.changes(),
            lines=[line for _index, line in lines],
            expected_version=_expected_version(request),
        )
    except services.QuoteChanged as changed:
        # Keep what this user typed; the form now carries the current
        # version, so saving again (after checking) goes through.
        form.add_error(None, _changed_message(changed))
        return _render_case(
            request,
            case,
            partial="quotes",
            status=409,
            quote_form=form,
            line_formset=formset,
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_case(
            request, case, partial="quotes", quote_form=form, line_formset=formset
        )
    if action == "issue":
        return _issue(request, case, quote)
    if action == "add":
        blank = len(formset.forms) - len(formset.filled())
        return _render_case(
            request,
            case,
            partial="quotes",
            line_formset=forms.line_formset_for(quote, extra=max(blank, 1) + 1),
        )
    return _done(request, case, "quote-builder", "quotes")


@require_POST
def quote_totals(request: HtmxHttpRequest, reference: str, pk: int) -> HttpResponse:
    """Live totals of the lines being typed (nothing is saved)."""
    case = _case_for(request, reference)
    quote = _quote_for(case, pk)
    flow_services.check_can_act(case, user=request.user, action="edit_quote")
    formset = forms.LineFormSet(request.POST, prefix=forms.LINES_PREFIX)
    rows = [
        (index, form.line())
        for index, form in enumerate(formset.forms)
        if form.has_changed() and form.is_valid()
    ]
    totals = money.totals(
        (line.quantity, line.unit_price, line.vat_rate) for _index, line in rows
    )
    line_totals = {
        index: total
        for (index, _line), total in zip(rows, totals.line_totals, strict=True)
    }
    context = {
        "case": case,
        "quote_draft": quote,
        "draft_totals": totals,
        "oob_line_totals": [
            (index, line_totals.get(index)) for index in range(len(formset.forms))
        ],
    }
    return render(request, f"{PANELS}#quote-totals", context)


@require_POST
def quote_send(request: HtmxHttpRequest, reference: str, pk: int) -> HttpResponse:
    case = _case_for(request, reference)
    quote = _quote_for(case, pk)
    flow_services.check_can_act(case, user=request.user, action="send_quote")
    try:
        services.send_quote(
            quote,
            user=request.user,
            base_url=request.build_absolute_uri("/"),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Devis %(reference)s envoyé à %(email)s.")
            % {"reference": quote.reference, "email": quote.client_email or case.email},
        )
    return _done(request, case, "quotes", "quotes")


@require_POST
def quote_revise(request: HtmxHttpRequest, reference: str, pk: int) -> HttpResponse:
    case = _case_for(request, reference)
    quote = _quote_for(case, pk)
    try:
        revision = services.revise_quote(quote, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Nouvelle version %(reference)s en brouillon.")
            % {"reference": revision.reference},
        )
    return _done(request, case, "quote-builder", "quotes")


@require_POST
def quote_delete(request: HtmxHttpRequest, reference: str, pk: int) -> HttpResponse:
    case = _case_for(request, reference)
    quote = _quote_for(case, pk)
    try:
        services.delete_draft(quote, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _done(request, case, "quotes", "quotes")
