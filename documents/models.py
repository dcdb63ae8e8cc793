"""Documents attached to cases, the company profile, quotes and their lines.

Files live in private storage under random names; downloads go through a
permission-checked view. Quotes are numbered only when issued, and an issued
revision is never modified: a change is a new revision of the same number.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from documents import money

# Imported by name: the migrations reference them as documents.models.<name>.
from documents.validators import (
    document_storage_name,
    logo_storage_name,
    validate_logo,
    validate_siret,
    validate_vat_number,
)


def title_key(title: str) -> str:
    """What makes two titles "the same" for versioning: case and spaces ignored."""
    return " ".join((title or "").split()).casefold()[:200]


class DocumentCategory(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("libellé"), max_length=100)
    position = models.PositiveSmallIntegerField(_("ordre"), default=1)

    class Meta:
        verbose_name = _("catégorie de document")
        verbose_name_plural = _("catégories de document")
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class Document(models.Model):
    class Origin(models.TextChoices):
        UPLOAD = "upload", _("téléversé")
        QUOTE = "quote", _("devis émis")
        SIGNATURE = "signature", _("devis signé en ligne")

    case = models.ForeignKey(
        "flows.Case",
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("dossier"),
    )
    category = models.ForeignKey(
        DocumentCategory,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("catégorie"),
    )
    title = models.CharField(_("titre"), max_length=200)
    # Same key in the same case: versions of one document.
    title_key = models.CharField(max_length=200, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("version courante"), default=True)
    file = models.FileField(
        _("fichier"), upload_to=document_storage_name, max_length=200
    )
    original_name = models.CharField(_("nom d'origine"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    origin = models.CharField(
        _("origine"), max_length=20, choices=Origin, default=Origin.UPLOAD
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("déposé par"),
    )
    uploaded_at = models.DateTimeField(_("déposé le"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["case", "title_key", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "title_key", "version"],
                name="document_unique_version",
            ),
            models.UniqueConstraint(
                fields=["case", "title_key"],
                condition=Q(is_current=True),
                name="document_one_current_version",
            ),
        ]
        indexes = [
            models.Index(
                fields=["case", "category", "is_current"], name="document_case_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


DEFAULT_PAYMENT_TERMS = (
    "Acompte de 30 % à la commande, solde à réception de la facture. "
    "Paiement à 30 jours date de facture. En cas de retard, pénalités au taux "
    "d'intérêt légal majoré de 10 points et indemnité forfaitaire pour frais de "
    "recouvrement de 40 €."
)


class CompanyProfile(models.Model):
    """The seller printed on every quote. One row, pk = 1."""

    legal_name = models.CharField(_("raison sociale"), max_length=200, blank=True)
    legal_form = models.CharField(
        _("forme juridique"), max_length=50, blank=True, help_text=_("SAS, SARL, EI…")
    )
    address = models.TextField(
        _("adresse"), blank=True, help_text=_("Rue, code postal et ville.")
    )
    siret = models.CharField(
        _("SIRET"), max_length=20, blank=True, validators=[validate_siret]
    )
    rcs = models.CharField(
        _("RCS / RM"),
        max_length=100,
        blank=True,
        help_text=_("« RCS Lyon 123 456 789 » ou « RM 123 456 789 »."),
    )
    vat_applies = models.BooleanField(
        _("assujetti à la TVA"),
        default=True,
        help_text=_(
            "Décoché : franchise en base, « TVA non applicable, art. 293 B du CGI »."
        ),
    )
    vat_number = models.CharField(
        _("n° de TVA intracommunautaire"),
        max_length=20,
        blank=True,
        validators=[validate_vat_number],
    )
    share_capital = models.DecimalField(
        _("capital social (€)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    website = models.CharField(_("site web"), max_length=200, blank=True)
    logo = models.FileField(
        _("logo (PNG ou JPEG)"),
        upload_to=logo_storage_name,
        max_length=200,
        blank=True,
        validators=[validate_logo],
    )
    default_vat_rate = models.DecimalField(
        _("taux de TVA par défaut (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    quote_validity_days = models.PositiveSmallIntegerField(
        _("validité des devis (jours)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    payment_terms = models.TextField(
        _("conditions de paiement"), blank=True, default=DEFAULT_PAYMENT_TERMS
    )
    legal_footer = models.TextField(
        _("mentions de pied de page"),
        blank=True,
        help_text=_("Assurance décennale, médiateur de la consommation…"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("profil de l'entreprise")
        verbose_name_plural = _("profil de l'entreprise")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="companyprofile_singleton")
        ]

    def __str__(self) -> str:
        return self.legal_name or str(_("Profil de l'entreprise"))

    def save(self, *args, **kwargs):
        self.pk = 1
        self._normalise()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Le profil de l'entreprise ne se supprime pas."))

    def _normalise(self) -> None:
        self.siret = "".join(self.siret.split())
        self.vat_number = "".join(self.vat_number.split()).upper()

    def clean_fields(self, exclude=None):
        # "912 345 675 00009" as printed on a Kbis is accepted as typed.
        self._normalise()
        super().clean_fields(exclude)

    def snapshot(self) -> dict:
        """The seller as printed on a quote, frozen into it at issue time."""
        return {
            "legal_name": self.legal_name,
            "legal_form": self.legal_form,
            "address": self.address,
            "siret": self.siret,
            "rcs": self.rcs,
            "vat_applies": self.vat_applies,
            "vat_number": self.vat_number,
            "share_capital": str(self.share_capital)
            if self.share_capital is not None
            else "",
            "email": self.email,
            "phone": self.phone,
            "website": self.website,
            "logo": self.logo.name if self.logo else "",
            "legal_footer": self.legal_footer,
        }

    @classmethod
    def load(cls) -> CompanyProfile:
        profile, _created = cls.objects.get_or_create(pk=1)
        return profile


class Quote(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("brouillon")
        SENT = "sent", _("envoyé")
        ACCEPTED = "accepted", _("accepté")
        DECLINED = "declined", _("refusé")
        EXPIRED = "expired", _("expiré")

    case = models.ForeignKey(
        "flows.Case",
        on_delete=models.PROTECT,
        related_name="quotes",
        verbose_name=_("dossier"),
    )
    # DEV-YYYY-NNNN, given at issue time only (gap-free); kept by revisions.
    # NULL, not "": unique per revision once set, and drafts have none.
    number = models.CharField(  # noqa: DJ001
        _("numéro"), max_length=20, null=True, blank=True
    )
    revision = models.PositiveSmallIntegerField(_("version"), default=1)
    # Incremented by every save of a draft: two people editing the same draft
    # cannot silently overwrite each other (see services.save_draft).
    edit_version = models.PositiveIntegerField(default=1, editable=False)
    status = models.CharField(
        _("statut"), max_length=10, choices=Status, default=Status.DRAFT
    )
    title = models.CharField(_("objet"), max_length=200, blank=True)
    valid_until = models.DateField(_("valable jusqu'au"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    terms = models.TextField(_("conditions"), blank=True)

    # The client as printed; copied from the case, editable while a draft.
    client_name = models.CharField(_("client"), max_length=200, blank=True)
    client_contact = models.CharField(_("à l'attention de"), max_length=200, blank=True)
    client_address = models.TextField(_("adresse du client"), blank=True)
    client_email = models.EmailField(_("e-mail du client"), blank=True)
    client_vat_number = models.CharField(
        _("n° de TVA du client"), max_length=20, blank=True
    )

    # Frozen at issue time.
    issued_at = models.DateTimeField(_("émis le"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("émis par"),
    )
    seller = models.JSONField(_("vendeur (à l'émission)"), default=dict, blank=True)
    total_ht = models.DecimalField(
        _("total HT"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    total_vat = models.DecimalField(
        _("total TVA"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    total_ttc = models.DecimalField(
        _("total TTC"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    pdf = models.ForeignKey(
        Document,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("PDF"),
    )
    superseded_at = models.DateTimeField(_("remplacé le"), null=True, blank=True)

    # Sending and the public link: only the token's SHA-256 is stored.
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    sent_to = models.EmailField(_("envoyé à"), blank=True)
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    token_expires_at = models.DateTimeField(
        _("lien valable jusqu'au"), null=True, blank=True
    )
    # The e-mail goes from a task (documents.tasks): the link's token is
    # derived from this nonce and SECRET_KEY, so the task can write it
    # without the token being stored; sending again draws a new nonce.
    link_nonce = models.CharField(max_length=32, blank=True, editable=False)
    email_sent_at = models.DateTimeField(_("e-mail parti le"), null=True, blank=True)
    email_error = models.CharField(_("erreur d'envoi"), max_length=500, blank=True)

    # Evidence of the client's answer.
    accepted_name = models.CharField(_("accepté par"), max_length=200, blank=True)
    accepted_at = models.DateTimeField(_("accepté le"), null=True, blank=True)
    accepted_ip = models.GenericIPAddressField(
        _("adresse IP (acceptation)"), null=True, blank=True
    )
    accepted_user_agent = models.CharField(
        _("navigateur (acceptation)"), max_length=300, blank=True
    )
    accepted_comment = models.TextField(_("commentaire du client"), blank=True)
    accepted_pdf_sha256 = models.CharField(
        _("empreinte du PDF accepté"), max_length=64, blank=True
    )
    signed_document = models.ForeignKey(
        Document,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exemplaire signé"),
    )
    declined_at = models.DateTimeField(_("refusé le"), null=True, blank=True)
    decline_reason = models.TextField(_("motif du refus"), blank=True)
    declined_ip = models.GenericIPAddressField(
        _("adresse IP (refus)"), null=True, blank=True
    )
    declined_user_agent = models.CharField(
        _("navigateur (refus)"), max_length=300, blank=True
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    created_at = models.DateTimeField(_("créé le"))
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    history = HistoricalRecords(
        excluded_fields=[
            "updated_at",
            "token_hash",
            "link_nonce",
            "email_sent_at",
            "email_error",
        ]
    )

    class Meta:
        verbose_name = _("devis")
        verbose_name_plural = _("devis")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["number", "revision"],
                condition=Q(number__isnull=False),
                name="quote_unique_number_revision",
            ),
        ]
        indexes = [models.Index(fields=["case", "status"], name="quote_case_status")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        if not self.number:
            return str(_("Brouillon de devis"))
        if self.revision > 1:
            return f"{self.number} v{self.revision}"
        return self.number

    @property
    def is_issued(self) -> bool:
        return self.issued_at is not None

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT and not self.is_issued

    def state(self, today: date | None = None) -> str:
        """What to show: draft, issued, sent, accepted, declined, expired, superseded."""
        if self.status == self.Status.DRAFT:
            return "issued" if self.is_issued else "draft"
        if self.status == self.Status.SENT:
            if self.superseded_at:
                return "superseded"
            if today and self.valid_until and self.valid_until < today:
                return "expired"
        return self.status

    def computed_totals(self, lines=None) -> money.Totals:
        lines = self.lines.all() if lines is None else lines
        return money.totals(
            (line.quantity, line.unit_price, line.vat_rate) for line in lines
        )


class QuoteLine(models.Model):
    quote = models.ForeignKey(
        Quote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("devis")
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=1)
    description = models.TextField(_("désignation"), max_length=2000)
    quantity = models.DecimalField(
        _("quantité"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit = models.CharField(_("unité"), max_length=20, blank=True)
    unit_price = models.DecimalField(
        _("prix unitaire HT"), max_digits=12, decimal_places=2
    )
    vat_rate = models.DecimalField(
        _("TVA (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        verbose_name = _("ligne de devis")
        verbose_name_plural = _("lignes de devis")
        ordering = ["quote", "position", "pk"]

    def __str__(self) -> str:
        return self.description[:60]

    @property
    def total_ht(self) -> Decimal:
        return money.line_total(self.quantity, self.unit_price)
