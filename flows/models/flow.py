"""The flow as configured: its statuses, the moves between them, checklists."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

MAX_STATUSES = 8
MAX_STATUSES_MESSAGE = _("Un flux compte au plus 8 statuts.")


class Flow(models.Model):
    name = models.CharField(_("nom"), max_length=100)
    slug = models.SlugField(_("identifiant"), max_length=50, unique=True)
    is_active = models.BooleanField(
        _("actif"),
        default=False,
        help_text=_("Le flux actif est celui du tableau. Un seul flux est actif."),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    require_next_action = models.BooleanField(
        _("prochaine action obligatoire"),
        default=True,
        help_text=_(
            "Chaque dossier en cours porte une prochaine action et son échéance : "
            "exigées à la création et à chaque passage dans un statut en cours."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("flux")
        verbose_name_plural = _("flux")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="flow_single_active",
                violation_error_message=_("Un seul flux peut être actif."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def initial_status(self) -> Status | None:
        return self.statuses.filter(position=1).first()


color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Une couleur comme #1f4e79."))


class Status(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("en cours")
        WON = "won", _("gagné")
        LOST = "lost", _("perdu")

    flow = models.ForeignKey(
        Flow, on_delete=models.CASCADE, related_name="statuses", verbose_name=_("flux")
    )
    position = models.PositiveSmallIntegerField(
        _("position"),
        validators=[
            MinValueValidator(1),
            MaxValueValidator(MAX_STATUSES, message=MAX_STATUSES_MESSAGE),
        ],
        help_text=_("1 = statut initial ; 8 au plus."),
    )
    code = models.SlugField(
        _("code"),
        max_length=50,
        help_text=_(
            "Identifiant stable ; ne change plus une fois utilisé par un dossier."
        ),
    )
    label = models.CharField(_("libellé"), max_length=100)
    kind = models.CharField(_("nature"), max_length=10, choices=Kind, default=Kind.OPEN)
    color = models.CharField(
        _("couleur"), max_length=7, default="#5a6472", validators=[color_validator]
    )
    sla_days = models.PositiveSmallIntegerField(
        _("délai (jours)"),
        null=True,
        blank=True,
        help_text=_("Au-delà, un dossier immobile dans ce statut est en retard."),
    )
    wip_limit = models.PositiveSmallIntegerField(
        _("limite d'encours"), null=True, blank=True
    )
    description = models.TextField(
        _("signification"),
        blank=True,
        help_text=_("Ce que veut dire, concrètement, « être dans ce statut »."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("statut")
        verbose_name_plural = _("statuts")
        ordering = ["flow", "position"]
        constraints = [
            # The cap of eight statuses lives in the database itself.
            models.CheckConstraint(
                condition=Q(position__gte=1) & Q(position__lte=MAX_STATUSES),
                name="status_position_1_to_8",
                violation_error_message=MAX_STATUSES_MESSAGE,
            ),
            models.UniqueConstraint(
                fields=["flow", "position"],
                name="status_unique_position",
                violation_error_message=_(
                    "Cette position est déjà prise dans ce flux."
                ),
            ),
            models.UniqueConstraint(
                fields=["flow", "code"],
                name="status_unique_code",
                violation_error_message=_("Ce code existe déjà dans ce flux."),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN

    def clean(self) -> None:
        if self.flow_id is None:
            return
        others = Status.objects.filter(flow_id=self.flow_id).exclude(pk=self.pk)
        if not self.pk and others.count() >= MAX_STATUSES:
            raise ValidationError(MAX_STATUSES_MESSAGE)
        if self.pk:
            previous = (
                Status.objects.filter(pk=self.pk).values_list("code", flat=True).first()
            )
            if previous and previous != self.code and self.is_used(code=previous):
                raise ValidationError(
                    {
                        "code": _(
                            "Le code « %(code)s » a déjà servi à des dossiers : "
                            "il ne peut plus changer (le libellé, si)."
                        )
                        % {"code": previous}
                    }
                )

    def is_used(self, code: str | None = None) -> bool:
        """True when a case is, or has been, in this status."""
        code = code or self.code
        # Cases are built on statuses (flows.models.case imports this
        # module): they are reached through the app registry instead.
        case_model = self._meta.apps.get_model("flows", "Case")
        change_model = self._meta.apps.get_model("flows", "StatusChange")
        return (
            case_model.objects.filter(flow_id=self.flow_id, status=code).exists()
            or change_model.objects.filter(
                Q(from_status=self) | Q(to_status=self)
            ).exists()
        )

    def delete(self, *args, **kwargs):
        if self.pk and self.is_used():
            raise StatusInUse(self)
        return super().delete(*args, **kwargs)


class StatusInUse(ValidationError):
    def __init__(self, status: Status):
        super().__init__(
            _(
                "Le statut « %(label)s » est ou a été utilisé par des dossiers : "
                "il ne peut pas être supprimé. Retirez ses transitions à la place."
            )
            % {"label": status.label},
            code="status_in_use",
        )


class Transition(models.Model):
    class AllowedRoles(models.TextChoices):
        EVERYONE = "everyone", _("tout le monde")
        MANAGERS = "managers", _("responsables seulement")

    flow = models.ForeignKey(
        Flow,
        on_delete=models.CASCADE,
        related_name="transitions",
        verbose_name=_("flux"),
    )
    source = models.ForeignKey(
        Status, on_delete=models.CASCADE, related_name="outgoing", verbose_name=_("de")
    )
    target = models.ForeignKey(
        Status,
        on_delete=models.CASCADE,
        related_name="incoming",
        verbose_name=_("vers"),
    )
    label = models.CharField(
        _("libellé"),
        max_length=100,
        help_text=_("Un verbe : « Planifier le rendez-vous »."),
    )
    allowed_roles = models.CharField(
        _("qui peut"),
        max_length=10,
        choices=AllowedRoles,
        default=AllowedRoles.EVERYONE,
    )
    requires_reason = models.BooleanField(_("motif obligatoire"), default=False)
    enforce_checklist = models.BooleanField(
        _("exiger la checklist"),
        default=True,
        help_text=_(
            "Les éléments obligatoires du statut de départ doivent être faits."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ["source__position", "target__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target"],
                name="transition_unique_edge",
                violation_error_message=_("Cette transition existe déjà."),
            ),
            models.CheckConstraint(
                condition=~Q(source=F("target")),
                name="transition_no_self_loop",
                violation_error_message=_(
                    "Une transition relie deux statuts différents."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"

    def clean(self) -> None:
        errors = {}
        if self.source_id and self.target_id and self.source_id == self.target_id:
            errors["target"] = _("Une transition relie deux statuts différents.")
        for name in ("source", "target"):
            status = getattr(self, name, None) if getattr(self, f"{name}_id") else None
            if status is not None and self.flow_id and status.flow_id != self.flow_id:
                errors[name] = _("Ce statut appartient à un autre flux.")
        if errors:
            raise ValidationError(errors)


class ChecklistItem(models.Model):
    class Kind(models.TextChoices):
        MANUAL = "manual", _("coché à la main")
        FIELD = "field", _("champ rempli")
        DOCUMENT = "document", _("document joint")
        QUOTE_SENT = "quote_sent", _("devis envoyé")
        QUOTE_ACCEPTED = "quote_accepted", _("devis accepté")

    class Field(models.TextChoices):
        EMAIL_OR_PHONE = "email_or_phone", _("e-mail ou téléphone du contact")
        EMAIL = "email", _("e-mail du contact")
        PHONE = "phone", _("téléphone du contact")
        CONTACT_NAME = "contact_name", _("nom du contact")
        COMPANY = "company", _("société")
        AMOUNT = "amount", _("montant")
        MEETING_AT = "meeting_at", _("date du rendez-vous")
        NEXT_ACTION = "next_action", _("prochaine action")

    status = models.ForeignKey(
        Status,
        on_delete=models.CASCADE,
        related_name="checklist_items",
        verbose_name=_("statut"),
    )
    label = models.CharField(_("libellé"), max_length=200)
    help_text = models.CharField(_("aide"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=1)
    required = models.BooleanField(_("obligatoire"), default=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind, default=Kind.MANUAL)
    field_name = models.CharField(
        _("champ"),
        max_length=30,
        choices=Field,
        blank=True,
        help_text=_("Pour le type « champ rempli »."),
    )
    document_category = models.SlugField(
        _("catégorie de document"),
        max_length=50,
        blank=True,
        help_text=_("Pour le type « document joint » : le code de la catégorie."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("élément de checklist")
        verbose_name_plural = _("éléments de checklist")
        ordering = ["status", "position", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_automatic(self) -> bool:
        return self.kind != self.Kind.MANUAL

    def clean(self) -> None:
        if self.kind == self.Kind.FIELD and not self.field_name:
            raise ValidationError({"field_name": _("Choisissez le champ à vérifier.")})
        if self.kind == self.Kind.DOCUMENT and not self.document_category:
            raise ValidationError(
                {"document_category": _("Indiquez la catégorie de document attendue.")}
            )
