"""CSV import for managers: upload, map and preview, import, invalid rows."""

from __future__ import annotations

from itertools import islice

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from config import clock
from config.http import HtmxHttpRequest
from flows import access
from flows.access import manager_required
from flows.engine import selectors
from flows.intake import imports
from flows.models import ImportRun

PREVIEW = "flows/import_preview.html"
# Example values shown next to each column of the file.
EXAMPLE_ROWS = 3


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Fichier CSV"),
        help_text=gettext_lazy(
            "Export CSV d'Excel ou de LibreOffice (séparateur point-virgule ou "
            "virgule, UTF-8 ou Windows-1252). La première ligne donne les noms "
            "des colonnes."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )


class OptionsForm(forms.Form):
    """The mapping (one select per column of the file) and the import options."""

    status = forms.ChoiceField(label=gettext_lazy("Statut des dossiers importés"))
    owner = forms.ChoiceField(
        label=gettext_lazy("Responsable du dossier par défaut"),
        required=False,
        help_text=gettext_lazy("Pour les lignes sans responsable reconnu."),
    )
    skip_duplicates = forms.BooleanField(
        label=gettext_lazy("Ignorer les doublons"),
        required=False,
        help_text=gettext_lazy(
            "Une ligne avec le même e-mail, téléphone ou société qu'un dossier "
            "existant (ou qu'une ligne précédente) n'est pas importée : "
            "réimporter le même fichier ne crée rien de nouveau."
        ),
    )

    def __init__(self, *args, headers, statuses, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", _("— ne pas importer —"))] + [
            (name, label) for name, label in imports.FIELDS.items()
        ]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False
            )
        self.fields["status"].choices = [(s.code, s.label) for s in statuses]
        self.fields["owner"].choices = [("", _("Non attribué"))] + [
            (str(u.pk), access.display_name(u)) for u in owners
        ]

    @classmethod
    def initial_for(cls, run: ImportRun, *, statuses, user) -> dict:
        if run.options:
            options = imports.Options.from_json(run.options)
        else:
            options = imports.Options(
                mapping=imports.guess_mapping(run.headers),
                status_code=statuses[0].code if statuses else "",
                owner_id=user.pk,
            )
        initial = {f"col_{index}": target for index, target in options.mapping.items()}
        initial |= {
            "status": options.status_code,
            "owner": "" if options.owner_id is None else str(options.owner_id),
            "skip_duplicates": options.skip_duplicates,
        }
        return initial

    def column_fields(self):
        return [self[f"col_{index}"] for index in range(len(self.headers))]

    def clean(self):
        data = super().clean()
        mapping = self.mapping()
        for problem in imports.mapping_problems(mapping):
            self.add_error(None, problem)
        return data

    def mapping(self) -> dict[int, str]:
        return {
            index: self.cleaned_data[f"col_{index}"]
            for index in range(len(self.headers))
            if self.cleaned_data.get(f"col_{index}")
        }

    def options(self) -> imports.Options:
        owner = self.cleaned_data.get("owner")
        return imports.Options(
            mapping=self.mapping(),
            status_code=self.cleaned_data["status"],
            owner_id=int(owner) if owner else None,
            skip_duplicates=self.cleaned_data["skip_duplicates"],
        )


def _run_for(request: HtmxHttpRequest, token: str) -> ImportRun:
    # Only the manager who uploaded the file sees it.
    return get_object_or_404(ImportRun, token=token, created_by=request.user)


@manager_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HtmxHttpRequest) -> HttpResponse:
    flow = selectors.active_flow()
    form = UploadForm()
    if request.method == "POST" and flow is not None:
        form = UploadForm(request.POST, request.FILES)
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


def _examples(run: ImportRun) -> list[list[str]]:
    """The first values of each column, to help with the mapping."""
    try:
        first = [
            cells
            for _line, cells in islice(
                imports.rows(
                    imports.storage_source(run.file_name), imports.info_of(run)
                ),
                EXAMPLE_ROWS,
            )
        ]
    except imports.ImportFileError:
        first = []
    return [
        [cells[index] for cells in first if index < len(cells) and cells[index].strip()]
        for index in range(len(run.headers))
    ]


@manager_required
@require_http_methods(["GET", "POST"])
def import_preview(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Map the columns, see what would happen, then import (re-validated)."""
    run = _run_for(request, token)
    if run.state == ImportRun.State.IMPORTED:
        return redirect("flows:import_done", token=run.token)
    flow = selectors.active_flow()
    if flow is None or not run.file_name:
        messages.error(
            request,
            _("Ce fichier n'est plus disponible : chargez-le de nouveau.")
            if flow is not None
            else _("Aucun flux actif."),
        )
        return redirect("flows:import_upload")
    statuses = imports.importable_statuses(flow)
    owners = imports.import_owners()
    kwargs = {"headers": run.headers, "statuses": statuses, "owners": owners}
    if request.method == "POST":
        form = OptionsForm(request.POST, **kwargs)
    else:
        # Bound to the guessed (or last previewed) options: the preview
        # shows at once.
        form = OptionsForm(_initial_data(run, statuses, request.user), **kwargs)
    source = imports.storage_source(run.file_name)
    info = imports.info_of(run)
    preview, fingerprint = None, ""
    if form.is_valid():
        options = form.options()
        fingerprint = options.fingerprint()
        if request.method == "POST" and request.POST.get("action") == "import":
            if request.POST.get("previewed") == fingerprint:
                return _import(request, run, flow, source, info, options)
            messages.warning(
                request,
                _(
                    "Les réglages ont changé depuis l'aperçu : vérifiez le nouvel "
                    "aperçu, puis importez."
                ),
            )
        try:
            preview = imports.preview(source, info, options, flow=flow)
        except imports.ImportFileError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            run.options = options.to_json()
            run.save(update_fields=["options"])
    context = {
        "run": run,
        "form": form,
        "columns": list(zip(form.column_fields(), _examples(run), strict=True)),
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
        "default_action": _("Reprendre contact"),
        "default_due": imports.working_days_after(clock.today(), 2),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{PREVIEW}#import-preview", context)
    return render(request, PREVIEW, context)


def _initial_data(run: ImportRun, statuses, user) -> dict:
    data = OptionsForm.initial_for(run, statuses=statuses, user=user)
    # An unticked checkbox is an absent key in bound data.
    if not data.pop("skip_duplicates"):
        return data
    return data | {"skip_duplicates": "on"}


def _import(request, run, flow, source, info, options) -> HttpResponse:
    try:
        result = imports.run_import(
            source,
            info,
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
