"""Project-wide models: the sessions each person has open."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserSession(models.Model):
    """One signed-in browser: which session row is whose, and where from.

    Django's session table stores its data encoded, with no user column; this
    row lets the security page list a person's sessions and end them without
    decoding every session.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("utilisateur"),
    )
    # A secret: never shown nor put in the audit trail; pages use the pk.
    session_key = models.CharField(_("clé de session"), max_length=40, unique=True)
    user_agent = models.CharField(_("navigateur"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("ouverte le"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("dernière activité"), default=timezone.now)

    class Meta:
        verbose_name = _("session ouverte")
        verbose_name_plural = _("sessions ouvertes")
        indexes = [
            models.Index(fields=["user", "last_seen_at"], name="usersession_user_seen")
        ]

    def __str__(self) -> str:
        return f"session #{self.pk} of user {self.user_id}"


class JobRun(models.Model):
    """When `run_scheduler` last ran each daily job, across restarts.

    Lets a scheduler started after a job's time run what it missed that day,
    once, and a second start know it already did.
    """

    command = models.CharField(_("commande"), max_length=100, unique=True)
    last_run_at = models.DateTimeField(_("dernier passage"))

    class Meta:
        verbose_name = _("passage du planificateur")
        verbose_name_plural = _("passages du planificateur")

    def __str__(self) -> str:
        return f"{self.command} at {self.last_run_at:%Y-%m-%d %H:%M}"
