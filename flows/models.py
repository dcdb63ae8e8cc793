"""The domain: a configured flow, its statuses and rules, and the cases in it.

The graph is data (Transition rows). The model only refuses a move that does
not follow a configured edge; every other rule lives in `flows.guards`, and
every move goes through `flows.services.move_case`.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta

import django_fsm as fsm
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
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

    def clean(self) -> None:
        if self.is_active and self.pk:
            problems = self.activation_problems()
            if problems:
                raise ValidationError({"is_active": problems})

    def initial_status(self) -> Status | None:
        return self.statuses.filter(position=1).first()

    def activation_problems(self) -> list[str]:
        """Why this flow cannot be activated; empty when it can."""
        statuses = list(self.statuses.all())
        problems: list[str] = []
        if not any(s.position == 1 for s in statuses):
            problems.append(_("Aucun statut en position 1 (le statut initial)."))
        kinds = {s.kind for s in statuses}
        if Status.Kind.WON not in kinds:
            problems.append(_("Il faut au moins un statut « gagné »."))
        if Status.Kind.LOST not in kinds:
            problems.append(_("Il faut au moins un statut « perdu »."))
        edges: dict[int, list[int]] = {}
        for source_id, target_id in Transition.objects.filter(flow=self).values_list(
            "source_id", "target_id"
        ):
            edges.setdefault(source_id, []).append(target_id)
        closed = {s.pk for s in statuses if s.kind != Status.Kind.OPEN}
        for status in statuses:
            if status.kind == Status.Kind.OPEN and not _reaches(
                status.pk, closed, edges
            ):
                problems.append(
                    _("« %(label)s » ne mène à aucun statut gagné ou perdu.")
                    % {"label": status.label}
                )
        return problems


def _reaches(start: int, goals: set[int], edges: dict[int, list[int]]) -> bool:
    seen, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        for nxt in edges.get(node, []):
            if nxt in goals:
                return True
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


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
        return (
            Case.objects.filter(flow_id=self.flow_id, status=code).exists()
            or StatusChange.objects.filter(
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

    @property
    def is_backward(self) -> bool:
        # Reopening a closed case is not rework: only open → earlier open.
        return (
            self.target.position < self.source.position
            and not self.source.is_closed
            and not self.target.is_closed
        )


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


class Case(fsm.ConcurrentTransitionMixin, models.Model):
    flow = models.ForeignKey(
        Flow, on_delete=models.PROTECT, related_name="cases", verbose_name=_("flux")
    )
    reference = models.CharField(
        _("référence"), max_length=20, unique=True, editable=False
    )
    title = models.CharField(_("titre"), max_length=200)
    company = models.CharField(_("société"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    source = models.CharField(_("origine"), max_length=100, blank=True)
    amount = models.DecimalField(
        _("montant (€ HT)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_cases",
        verbose_name=_("responsable du dossier"),
    )
    # The Status.code of self.flow. Protected: only `move_to`, called by the
    # transition service, changes it (TECH-NOTES §1).
    status = fsm.FSMField(_("statut"), max_length=50, protected=True)
    status_entered_at = models.DateTimeField(
        _("dans ce statut depuis"), default=timezone.now
    )
    next_action = models.CharField(_("prochaine action"), max_length=200, blank=True)
    next_action_due = models.DateField(_("échéance"), null=True, blank=True)
    meeting_at = models.DateTimeField(_("date du rendez-vous"), null=True, blank=True)
    lost_reason = models.TextField(_("motif de perte"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    created_at = models.DateTimeField(
        _("créé le"), default=timezone.now, editable=False
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    closed_at = models.DateTimeField(
        _("clos le"), null=True, blank=True, editable=False
    )
    # Incremented by every save of the details: two people editing the same
    # case cannot silently overwrite each other.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # Waiting on the client (flows.services.start_waiting): the case is not
    # stale before `waiting_until` and comes back by itself on that date; no
    # job has to run. The periods themselves are Waiting rows.
    waiting_until = models.DateField(
        _("en attente du client jusqu'au"), null=True, blank=True
    )
    waiting_reason = models.CharField(
        _("motif de l'attente"), max_length=200, blank=True
    )
    # Client time in the current status: finished waits, plus the planned
    # length of the current one (shortened if it ends early). The status's
    # SLA counts from status_entered_at + waiting_in_status, so one indexed
    # comparison finds stale cases.
    waiting_in_status = models.DurationField(
        _("attente du client dans ce statut"), default=timedelta(0), editable=False
    )
    # The first move or the first completed next action: the first response
    # to a new lead (insights).
    first_response_at = models.DateTimeField(
        _("première réponse le"), null=True, blank=True, editable=False
    )

    history = HistoricalRecords(
        excluded_fields=["updated_at", "waiting_in_status", "first_response_at"]
    )

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["flow", "status", "status_entered_at"], name="case_board"
            ),
            models.Index(fields=["owner", "next_action_due"], name="case_owner_due"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("flows:case_detail", kwargs={"reference": self.reference})

    @fsm.transition(field=status, source="*", target=fsm.RETURN_VALUE())
    def move_to(self, edge: Transition) -> str:
        """Follow one configured edge; return the new status code."""
        if edge.flow_id != self.flow_id or edge.source.code != self.status:
            raise fsm.TransitionNotAllowed(f"{edge} does not start at {self.status!r}")
        return edge.target.code


class CaseChecklistItem(models.Model):
    """The state of a manual checklist item for one case."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="checklist_states"
    )
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.CASCADE, related_name="states"
    )
    done = models.BooleanField(_("fait"), default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fait par"),
    )
    done_at = models.DateTimeField(_("fait le"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("état de checklist")
        verbose_name_plural = _("états de checklist")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "item"], name="case_checklist_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.item_id} {'✓' if self.done else '·'}"


class StatusChange(models.Model):
    """One row per move that happened, and one for the initial status.

    Time in status, funnels, rework and insights all derive from this table.
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.ForeignKey(
        Status,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("de"),
    )
    to_status = models.ForeignKey(
        Status, on_delete=models.PROTECT, related_name="+", verbose_name=_("vers")
    )
    at = models.DateTimeField(_("le"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("par"),
    )
    # Who acted when no user did: "client" (public quote page) or "system".
    actor_label = models.CharField(_("acteur"), max_length=150, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    override = models.BooleanField(_("forçage"), default=False)
    time_in_previous = models.DurationField(_("durée dans le statut quitté"), null=True)
    # The part of time_in_previous spent waiting on the client (client time).
    waiting_in_previous = models.DurationField(
        _("dont attente du client"), default=timedelta(0)
    )

    class Meta:
        verbose_name = _("changement de statut")
        verbose_name_plural = _("changements de statut")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="statuschange_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_status_id} → {self.to_status_id}"


class Comment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    body = models.TextField(_("commentaire"))
    created_at = models.DateTimeField(_("le"), default=timezone.now)

    class Meta:
        verbose_name = _("commentaire")
        verbose_name_plural = _("commentaires")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"], name="comment_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.body[:40]}"


class Sequence(models.Model):
    """Gap-free counters (case references, quote numbers), one row per key.

    The counter is incremented in the same transaction as the row that uses
    it, under a row lock, so a rolled-back creation gives its number back.
    """

    key = models.CharField(max_length=50, primary_key=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur")
        verbose_name_plural = _("compteurs")

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


# --- Follow-ups: waiting, notifications, reminders, diagnostic -----------------


class Waiting(models.Model):
    """One period of "waiting on the client" (DESIGN §3).

    Not counted as stale before `until`; the time spent is client time. A
    period ends early (`end_waiting`, or a move of the case) or by itself on
    `until`, in which case `ended_at` stays empty.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="waits")
    status = models.ForeignKey(
        Status, on_delete=models.PROTECT, related_name="+", verbose_name=_("statut")
    )
    reason = models.CharField(_("motif"), max_length=200)
    until = models.DateField(_("retour prévu le"))
    started_at = models.DateTimeField(_("depuis le"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("par"),
    )
    ended_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("terminée par"),
    )

    class Meta:
        verbose_name = _("attente du client")
        verbose_name_plural = _("attentes du client")
        ordering = ["started_at", "pk"]
        indexes = [models.Index(fields=["case", "started_at"], name="waiting_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.reason} → {self.until}"


class Notification(models.Model):
    """Something a team member should see: shown under the bell in the header.

    The text is rendered when displayed, in the reader's language, from
    `kind` and `data`.
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("dossier attribué")
        MENTION = "mention", _("mention")
        QUOTE_ACCEPTED = "quote_accepted", _("devis accepté")
        QUOTE_DECLINED = "quote_declined", _("devis refusé")
        MOVE_BLOCKED = "move_blocked", _("déplacement refusé")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("destinataire"),
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind)
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("dossier"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    data = models.JSONField(_("données"), default=dict, blank=True)
    created_at = models.DateTimeField(_("le"), default=timezone.now)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The bell's unread count and the list, newest first.
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(
                fields=["recipient", "-created_at"], name="notification_recent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.kind}"


class UserPreference(models.Model):
    """Per-user settings of the reminders: e-mail language, daily digest."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pilote_preference",
    )
    # A code of settings.LANGUAGES (checked by the form, not by choices, so
    # adding a language needs no migration).
    language = models.CharField(_("langue des e-mails"), max_length=10, default="fr")
    daily_digest = models.BooleanField(
        _("récapitulatif quotidien par e-mail"), default=True
    )

    class Meta:
        verbose_name = _("préférence")
        verbose_name_plural = _("préférences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"


class ReminderLog(models.Model):
    """One digest sent to one user on one day: makes send_reminders idempotent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("jour"))
    sent_at = models.DateTimeField(_("envoyé le"), default=timezone.now)
    counts = models.JSONField(_("contenu"), default=dict, blank=True)

    class Meta:
        verbose_name = _("rappel envoyé")
        verbose_name_plural = _("rappels envoyés")
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="reminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.day}"


class DiagnosticResult(models.Model):
    """One answer sheet of the ten-statement self-test (DESIGN §1)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="diagnostic_results",
    )
    created_at = models.DateTimeField(_("le"), default=timezone.now)
    # Ten booleans in the order of flows.insights.STATEMENTS ("yes" = True).
    answers = models.JSONField(_("réponses"))
    score = models.PositiveSmallIntegerField(_("score"))

    class Meta:
        verbose_name = _("résultat du diagnostic")
        verbose_name_plural = _("résultats du diagnostic")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="diagnostic_user_at")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.score}/10"


# --- Data in and out: imports, the public lead form, webhooks -------------------


def new_import_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)


class ImportRun(models.Model):
    """One uploaded CSV file, from its preview to its import.

    The file waits in private storage between the preview and the import, so
    the import re-reads and re-validates exactly what was previewed; the row
    lock on this run makes a double submit import once.
    """

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("chargé")
        IMPORTED = "imported", _("importé")

    token = models.CharField(
        max_length=64, unique=True, default=new_import_token, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("par"),
    )
    created_at = models.DateTimeField(_("le"), default=timezone.now)
    original_name = models.CharField(_("fichier"), max_length=255)
    # Name in the default (private) storage; emptied when the file is deleted.
    file_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField(_("taille"), default=0)
    encoding = models.CharField(_("encodage"), max_length=20)
    delimiter = models.CharField(_("séparateur"), max_length=1)
    headers = models.JSONField(_("colonnes"), default=list)
    # The options of the last preview (mapping, status, owner, duplicates).
    options = models.JSONField(_("réglages"), default=dict, blank=True)
    state = models.CharField(
        _("état"), max_length=10, choices=State, default=State.UPLOADED
    )
    imported_at = models.DateTimeField(_("importé le"), null=True, blank=True)
    result = models.JSONField(_("résultat"), default=dict, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.created_at:%Y-%m-%d %H:%M})"


class LeadFormSettings(models.Model):
    """The public lead form (/lead/): one row, edited in the admin."""

    class Assignment(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("à tour de rôle entre les membres")
        FIXED = "fixed", _("toujours la même personne")

    enabled = models.BooleanField(
        _("activé"),
        default=False,
        help_text=_("Désactivé : /lead/ répond « page introuvable »."),
    )
    ask_company = models.BooleanField(_("demander la société"), default=True)
    ask_phone = models.BooleanField(_("demander le téléphone"), default=True)
    ask_message = models.BooleanField(_("demander un message"), default=True)
    assignment = models.CharField(
        _("attribution"),
        max_length=20,
        choices=Assignment,
        default=Assignment.ROUND_ROBIN,
    )
    fixed_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsable attitré"),
        help_text=_("Pour l'attribution « toujours la même personne »."),
    )
    thank_you_text = models.TextField(
        _("message de remerciement"),
        blank=True,
        help_text=_("Affiché après l'envoi ; vide : un message par défaut."),
    )
    # Round robin: who got the last lead.
    last_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("formulaire de contact public")
        verbose_name_plural = _("formulaire de contact public")

    def __str__(self) -> str:
        return str(_("Formulaire de contact public"))

    def clean(self) -> None:
        if self.assignment == self.Assignment.FIXED and self.fixed_owner_id is None:
            raise ValidationError(
                {"fixed_owner": _("Choisissez la personne qui reçoit les demandes.")}
            )


def new_webhook_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    """A URL told about events, each POST signed with `secret` (HMAC-SHA256)."""

    class Event(models.TextChoices):
        CASE_CREATED = "case.created", _("dossier créé")
        CASE_MOVED = "case.moved", _("dossier déplacé")
        CASE_WON = "case.won", _("dossier gagné")
        CASE_LOST = "case.lost", _("dossier perdu")
        QUOTE_ACCEPTED = "quote.accepted", _("devis accepté")

    name = models.CharField(_("nom"), max_length=100)
    url = models.URLField(_("adresse"), max_length=500)
    secret = models.CharField(
        _("secret"),
        max_length=100,
        default=new_webhook_secret,
        help_text=_(
            "Clé de la signature X-Pilote-Signature : à copier dans l'outil qui "
            "reçoit les événements."
        ),
    )
    events = models.JSONField(_("événements"), default=list)
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from flows import webhooks

        errors: dict[str, list[str]] = {}
        unknown = set(self.events or []) - set(self.Event.values)
        if unknown or not isinstance(self.events, list):
            errors["events"] = [_("Événement inconnu.")]
        elif not self.events:
            errors["events"] = [_("Choisissez au moins un événement.")]
        if self.url:
            try:
                webhooks.check_target(self.url)
            except ValidationError as error:
                errors["url"] = error.messages
        if errors:
            raise ValidationError(errors)


class WebhookDelivery(models.Model):
    """One event to send to one webhook: queued in the business transaction."""

    class State(models.TextChoices):
        PENDING = "pending", _("à envoyer")
        DELIVERED = "delivered", _("livré")
        FAILED = "failed", _("abandonné")

    webhook = models.ForeignKey(
        Webhook,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("webhook"),
    )
    event = models.CharField(_("événement"), max_length=30)
    event_id = models.UUIDField(_("identifiant"), unique=True)
    # The exact JSON sent (signed as is, identical on every attempt).
    body = models.TextField(_("contenu"))
    state = models.CharField(
        _("état"), max_length=10, choices=State, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    next_attempt_at = models.DateTimeField(
        _("prochaine tentative"), default=timezone.now
    )
    last_attempt_at = models.DateTimeField(
        _("dernière tentative"), null=True, blank=True
    )
    delivered_at = models.DateTimeField(_("livrée le"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("code HTTP"), null=True, blank=True
    )
    last_duration_ms = models.PositiveIntegerField(
        _("durée (ms)"), null=True, blank=True
    )
    last_error = models.TextField(_("dernière erreur"), blank=True)

    class Meta:
        verbose_name = _("envoi de webhook")
        verbose_name_plural = _("envois de webhooks")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The cron command's "what is due" query.
            models.Index(fields=["state", "next_attempt_at"], name="webhook_due"),
            models.Index(fields=["webhook", "-created_at"], name="webhook_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.state})"
