"""Project-wide models: open sessions, scheduler runs, task keys and workers."""

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


class TaskKey(models.Model):
    """A background task enqueued once: the key of `config.tasks.enqueue`.

    Written in the same transaction as the task row, so a second enqueue
    with the same key (a second scheduler, a retried request) is refused by
    the unique index, on any number of hosts.
    """

    key = models.CharField(_("clé"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)

    class Meta:
        verbose_name = _("clé de tâche")
        verbose_name_plural = _("clés de tâches")

    def __str__(self) -> str:
        return self.key


class TaskWorker(models.Model):
    """A `run_worker` process and when it last said it was alive.

    A running task whose worker has been silent too long was left by a
    killed process: `config.tasks.requeue_stranded` makes it ready again.
    """

    worker_id = models.CharField(_("identifiant"), max_length=64, primary_key=True)
    host = models.CharField(_("hôte"), max_length=100, blank=True)
    pid = models.PositiveIntegerField(_("processus"), null=True)
    seen_at = models.DateTimeField(_("vu le"), default=timezone.now)

    class Meta:
        verbose_name = _("processus de tâches")
        verbose_name_plural = _("processus de tâches")

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.host}"
