"""What Pilote tells people and systems: notifications, webhooks."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from flows.models.case import Case
from flows.models.webhook_targets import check_target


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


def new_webhook_secret() -> str:
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
        errors: dict[str, list[str]] = {}
        unknown = set(self.events or []) - set(self.Event.values)
        if unknown or not isinstance(self.events, list):
            errors["events"] = [_("Événement inconnu.")]
        elif not self.events:
            errors["events"] = [_("Choisissez au moins un événement.")]
        if self.url:
            try:
                check_target(self.url)
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
