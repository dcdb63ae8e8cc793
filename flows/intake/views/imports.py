"""CSV import for managers: upload, map and preview, import, invalid rows."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from audit import refusals
from config.http import HtmxHttpRequest
from flows.access import manager_required
from flows.engine import selectors
from flows.intake import forms, imports
from flows.models import ImportRun

PREVIEW = "flows/import_preview.html"
PROGRESS = "flows/import_progress.html"
# Example values shown next to each column of the file.
EXAMPLE_ROWS = 3


def _run_for(request: HtmxHttpRequest, token: str) -> ImportRun:
    # Only the manager who uploaded the file sees it; another manager's run
    # is a recorded refusal.
    run = ImportRun.objects.filter(token=token, created_by=request.user).first()
    if run is None:
        raise refusals.not_found(ImportRun, token=token)
    return run


@manager_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HtmxHttpRequest) -> HttpResponse:
    flow = selectors.active_flow()
    form = forms.UploadForm()
    if request.method == "POST" and flow is not None:
        form = forms.UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                run = imports.save_upload(form.cleaned_data["file"], user=request.user)
            except imports.ImportFileError as error:
                form.add_error("file", str(error))
            else:
                return redirect("flows:import_preview", token=run.token)
    recent = ImportRun.objects.filter(created_by=request.user)[:5]
    context = {"flow": flow, "form": form, "recent": recent}
    return render(request, "flows/import.html", context)


@manager_required
@require_http_methods(["GET", "POST"])
def import_preview(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Map the columns, see what would happen, then import (re-validated)."""
    run = _run_for(request, token)
    if run.state == ImportRun.State.IMPORTED:
        return redirect("flows:import_done", token=run.token)
    if run.state == ImportRun.State.RUNNING:
        return redirect("flows:import_progress", token=run.token)
    flow = selectors.active_flow()
    if flow is None or not run.file_name:
        messages.error(
            request,
            _("Ce fichier n'est plus disponible : chargez-le de nouveau.")
            if flow is not None
            else _("Aucun flux actif."),
        )
        return redirect("flows:import_upload")
    form = _options_form(request, run, flow)
    preview, fingerprint = None, ""
    if form.is_valid():
        options = form.options()
        fingerprint = options.fingerprint()
        if request.method == "POST" and request.POST.get("action") == "import":
            if request.POST.get("previewed") == fingerprint:
                return _import(request, run, flow, options)
            messages.warning(
                request,
                _(
                    "Les réglages ont changé depuis l'aperçu : vérifiez le nouvel "
                    "aperçu, puis importez."
                ),
            )
        preview = _preview(run, form, options, flow)
    context = _preview_context(run, form, preview, fingerprint)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{PREVIEW}#import-preview", context)
    return render(request, PREVIEW, context)


def _options_form(request: HtmxHttpRequest, run: ImportRun, flow) -> forms.OptionsForm:
    statuses = imports.importable_statuses(flow)
    kwargs = {
        "headers": run.headers,
        "statuses": statuses,
        "owners": imports.import_owners(),
    }
    if request.method == "POST":
        return forms.OptionsForm(request.POST, **kwargs)
    # Bound to the guessed (or last previewed) options: the preview shows
    # at once.
    data = forms.OptionsForm.data_for(run, statuses=statuses, user=request.user)
    return forms.OptionsForm(data, **kwargs)


def _preview(run: ImportRun, form, options, flow) -> imports.Preview | None:
    """The preview, the options kept for next time; None (the problems on
    the form) when the file or the options do not do."""
    source = imports.storage_source(run.file_name)
    try:
        preview = imports.preview(source, imports.info_of(run), options, flow=flow)
    except imports.ImportFileError as error:
        form.add_error(None, str(error))
        return None
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return None
    run.options = options.to_json()
    run.save(update_fields=["options"])
    return preview


def _preview_context(run: ImportRun, form, preview, fingerprint: str) -> dict:
    examples = imports.column_examples(run, count=EXAMPLE_ROWS)
    default_action, default_due = imports.default_next_action()
    return {
        "run": run,
        "form": form,
        "columns": list(zip(form.column_fields(), examples, strict=True)),
        "preview": preview,
        "invalid_rows": [
            (row, row.error_items(run.headers)) for row in preview.invalid_rows
        ]
        if preview
        else [],
        "fingerprint": fingerprint,
        "headers": run.headers,
        "status_label": dict(form.fields["status"].choices).get(
            form.data.get("status"), ""
        ),
        "default_action": default_action,
        "default_due": default_due,
    }


def _import(request, run, flow, options) -> HttpResponse:
    try:
        total = imports.row_count(run)
        if total > settings.IMPORT_BACKGROUND_ROWS:
            imports.start(run, options, user=request.user, total=total)
            return redirect("flows:import_progress", token=run.token)
        result = imports.run_import(
            imports.storage_source(run.file_name),
            imports.info_of(run),
            options,
            flow=flow,
            user=request.user,
            file_name=run.original_name,
            run=run,
        )
    except imports.AlreadyImported:
        return redirect("flows:import_done", token=run.token)
    except (imports.ImportFileError, ValidationError) as error:
        text = (
            str(error)
            if isinstance(error, imports.ImportFileError)
            else " ".join(error.messages)
        )
        messages.error(request, _("Rien n'a été importé : %(error)s") % {"error": text})
        return redirect("flows:import_preview", token=run.token)
    messages.success(
        request,
        ngettext(
            "%(count)s dossier importé.", "%(count)s dossiers importés.", result.created
        )
        % {"count": result.created},
    )
    return redirect("flows:import_done", token=run.token)


@manager_required
@require_GET
def import_progress(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """A large import running in a task: its progress, then its result."""
    run = _run_for(request, token)
    if run.state != ImportRun.State.RUNNING:
        error = (run.result or {}).get("error")
        if run.state == ImportRun.State.UPLOADED and error:
            messages.error(
                request, _("Rien n'a été importé : %(error)s") % {"error": error}
            )
        target = (
            "flows:import_done"
            if run.state == ImportRun.State.IMPORTED
            else "flows:import_preview"
        )
        if request.htmx:
            return HttpResponseClientRedirect(reverse(target, args=[run.token]))
        return redirect(target, token=run.token)
    read, total = imports.progress(run)
    context = {"run": run, "read": read, "total": total}
    if request.htmx:
        return render(request, f"{PROGRESS}#import-progress", context)
    return render(request, PROGRESS, context)


@manager_required
@require_GET
def import_done(request: HtmxHttpRequest, token: str) -> HttpResponse:
    run = _run_for(request, token)
    if run.state != ImportRun.State.IMPORTED:
        return redirect("flows:import_preview", token=run.token)
    return render(request, "flows/import_done.html", {"run": run, "result": run.result})


@manager_required
@require_GET
def import_errors(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The invalid rows of the file with an "Erreurs" column (CSV)."""
    run = _run_for(request, token)
    flow = selectors.active_flow()
    if not run.file_name or not run.options or flow is None:
        raise Http404
    try:
        lines = imports.error_lines(
            imports.storage_source(run.file_name),
            imports.info_of(run),
            imports.Options.from_json(run.options),
            flow=flow,
        )
    except ValidationError as error:
        raise Http404 from error
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stem = run.original_name.rsplit(".", 1)[0] or "import"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:60]
    response["Content-Disposition"] = f'attachment; filename="{safe}-erreurs.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
