"""The intake's forms: the CSV upload, the import's mapping and options, and
the public lead form."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from flows import access
from flows.engine import normalize
from flows.intake.imports.mapping import FIELDS, guess_mapping, mapping_problems
from flows.intake.imports.parsing import one_line
from flows.intake.imports.validation import Options
from flows.models import ImportRun, LeadFormSettings


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
            (name, label) for name, label in FIELDS.items()
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
    def data_for(cls, run: ImportRun, *, statuses, user) -> dict:
        """Bound data for the last previewed options, or the guessed ones."""
        if run.options:
            options = Options.from_json(run.options)
        else:
            options = Options(
                mapping=guess_mapping(run.headers),
                status_code=statuses[0].code if statuses else "",
                owner_id=user.pk,
            )
        data = {f"col_{index}": target for index, target in options.mapping.items()}
        data |= {
            "status": options.status_code,
            "owner": "" if options.owner_id is None else str(options.owner_id),
        }
        # An unticked checkbox is an absent key in bound data.
        if options.skip_duplicates:
            data["skip_duplicates"] = "on"
        return data

    def column_fields(self):
        return [self[f"col_{index}"] for index in range(len(self.headers))]

    def clean(self):
        data = super().clean()
        mapping = self.mapping()
        for problem in mapping_problems(mapping):
            self.add_error(None, problem)
        return data

    def mapping(self) -> dict[int, str]:
        return {
            index: self.cleaned_data[f"col_{index}"]
            for index in range(len(self.headers))
            if self.cleaned_data.get(f"col_{index}")
        }

    def options(self) -> Options:
        owner = self.cleaned_data.get("owner")
        return Options(
            mapping=self.mapping(),
            status_code=self.cleaned_data["status"],
            owner_id=int(owner) if owner else None,
            skip_duplicates=self.cleaned_data["skip_duplicates"],
        )


class LeadForm(forms.Form):
    contact_name = forms.CharField(label=gettext_lazy("Votre nom"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("Votre e-mail"), required=False)
    phone = forms.CharField(
        label=gettext_lazy("Votre téléphone"), max_length=30, required=False
    )
    company = forms.CharField(
        label=gettext_lazy("Votre société"), max_length=200, required=False
    )
    message = forms.CharField(
        label=gettext_lazy("Votre demande"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, lead_settings: LeadFormSettings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "email"})
        self.fields["contact_name"].widget.attrs.update({"autocomplete": "name"})
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "type": "tel"})
        self.fields["company"].widget.attrs.update({"autocomplete": "organization"})
        for name, shown in (
            ("company", lead_settings.ask_company),
            ("phone", lead_settings.ask_phone),
            ("message", lead_settings.ask_message),
        ):
            if not shown:
                del self.fields[name]
        if "phone" not in self.fields:
            self.fields["email"].required = True

    def clean_contact_name(self) -> str:
        name = one_line(self.cleaned_data["contact_name"])
        if len(name) < 2:
            raise ValidationError(_("Indiquez votre nom."))
        return name

    def clean_email(self) -> str:
        # EmailField already refused line breaks and anything but one address.
        return normalize.email(self.cleaned_data.get("email", ""))

    def clean_phone(self) -> str:
        try:
            return normalize.phone(one_line(self.cleaned_data.get("phone", "")))
        except ValidationError as error:
            raise ValidationError(error.messages) from error

    def clean_company(self) -> str:
        return one_line(self.cleaned_data.get("company", ""))

    def clean_message(self) -> str:
        text = (self.cleaned_data.get("message") or "").replace("\r\n", "\n")
        # Keep line breaks in the body; drop other control characters.
        return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text).strip()

    def clean(self):
        data = super().clean()
        if (
            "phone" in self.fields
            and not data.get("email")
            and not data.get("phone")
            and not self.has_error("email")
            and not self.has_error("phone")
        ):
            raise ValidationError(
                _(
                    "Indiquez un e-mail ou un téléphone pour que nous puissions vous répondre."
                )
            )
        return data
