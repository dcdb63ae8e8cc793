"""Per-user settings and the daily digest's log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
