"""Forms: the upload, the quote builder (header and lines), the client's answer."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from documents.models import CompanyProfile, Quote
from documents.services import LineData

VAT_RATES = [
    (Decimal("20.00"), _("20 %")),
    (Decimal("10.00"), _("10 %")),
    (Decimal("5.50"), _("5,5 %")),
    (Decimal("2.10"), _("2,1 %")),
    (Decimal("0.00"), _("0 %")),
]


class UploadForm(forms.Form):
    # Prefixed: the case page holds several forms with a "title" field.
    prefix = "upload"

    file = forms.FileField(
        label=_("Fichier"),
        # The service refuses empty files with its own message.
        allow_empty_file=True,
        help_text=_(
            "PDF, images (PNG, JPEG, WebP), texte, CSV, Word, Excel ou OpenDocument."
        ),
    )
    category = forms.ChoiceField(label=_("Catégorie"))
    title = forms.CharField(
        label=_("Titre"),
        max_length=200,
        required=False,
        help_text=_(
            "Même titre qu'un document existant : il devient sa nouvelle version. "
            "Vide : le nom du fichier."
        ),
    )

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.code, c.label) for c in categories]
        self.fields["category"].initial = "autre"
        self.fields["title"].widget.attrs["list"] = "document-titles"
        self.fields["file"].widget.attrs["class"] = "document-file-input"

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None and not (data.get("title") or "").strip():
            stem = str(upload.name).replace("\\", "/").split("/")[-1]
            data["title"] = stem.rsplit(".", 1)[0] if "." in stem[1:] else stem
        return data


class QuoteForm(forms.ModelForm):
    prefix = "quote"

    class Meta:
        model = Quote
        fields = [
            "client_name",
            "client_contact",
            "client_address",
            "client_email",
            "client_vat_number",
            "title",
            "valid_until",
            "notes",
            "terms",
        ]
        widgets = {
            "client_address": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "terms": forms.Textarea(attrs={"rows": 3}),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class LineForm(forms.Form):
    description = forms.CharField(
        label=_("Désignation"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    quantity = forms.DecimalField(
        label=_("Quantité"),
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
    )
    unit = forms.CharField(
        label=_("Unité"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"size": 6}),
    )
    unit_price = forms.DecimalField(
        label=_("Prix unitaire HT"),
        max_digits=12,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 9}),
    )
    vat_rate = forms.TypedChoiceField(
        label=_("TVA"), choices=VAT_RATES, coerce=Decimal, initial=Decimal("20.00")
    )

    # A row whose text fields are all empty is blank: skipped, never an
    # error (the trailing empty row, or a line the user cleared).
    FILLED_FIELDS = ("description", "quantity", "unit", "unit_price")

    def has_changed(self) -> bool:
        if not self.is_bound:
            return False
        return any(
            str(self.data.get(self.add_prefix(name), "")).strip()
            for name in self.FILLED_FIELDS
        )

    def line(self) -> LineData:
        data = self.cleaned_data
        return LineData(
            description=data["description"].strip(),
            quantity=data["quantity"],
            unit=data["unit"].strip(),
            unit_price=data["unit_price"],
            vat_rate=data["vat_rate"],
        )


class BaseLineFormSet(forms.BaseFormSet):
    def _construct_form(self, i, **kwargs):
        # Every row may be blank, not only the extra ones.
        return super()._construct_form(i, empty_permitted=True, **kwargs)

    def filled(self) -> list[tuple[int, LineForm]]:
        """(row index, form) of the rows that hold a line."""
        return [(i, form) for i, form in enumerate(self.forms) if form.has_changed()]


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=1, max_num=200, validate_max=True
)
LINES_PREFIX = "lines"


def _initial_rate(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def line_formset_for(quote: Quote, *, extra: int = 1, default_rate=None):
    if default_rate is None:
        default_rate = CompanyProfile.load().default_vat_rate
    initial = [
        {
            "description": line.description,
            "quantity": line.quantity.normalize(),
            "unit": line.unit,
            "unit_price": line.unit_price,
            "vat_rate": _initial_rate(line.vat_rate),
        }
        for line in quote.lines.all()
    ]
    formset_class = forms.formset_factory(
        LineForm, formset=BaseLineFormSet, extra=extra, max_num=200
    )
    formset = formset_class(initial=initial, prefix=LINES_PREFIX)
    for form in formset.forms[len(initial) :]:
        form.fields["vat_rate"].initial = _initial_rate(default_rate)
    return formset


class AcceptForm(forms.Form):
    name = forms.CharField(
        label=_("Votre nom complet"),
        max_length=200,
        min_length=2,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    approval = forms.BooleanField(
        label=_("Bon pour accord"),
        help_text=_(
            "En cochant cette case, j'accepte ce devis et ses conditions, sans réserve."
        ),
    )
    comment = forms.CharField(
        label=_("Commentaire (facultatif)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
