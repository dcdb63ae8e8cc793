"""Cases and what happens to them: moves, ticks, comments, waiting."""

from __future__ import annotations

from datetime import timedelta

import django_fsm as fsm
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from flows.models.flow import ChecklistItem, Flow, Status, Transition


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
