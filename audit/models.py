"""AuditEvent: the append-only record of what happened."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    at = models.DateTimeField(_("le"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acteur"),
    )
    # Who acted, as text: the username at the time, or "client" / "system".
    actor_label = models.CharField(_("acteur (texte)"), max_length=150)
    action = models.CharField(_("action"), max_length=50, db_index=True)
    case = models.ForeignKey(
        "flows.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("dossier"),
    )
    object_type = models.CharField(_("type d'objet"), max_length=50, blank=True)
    object_id = models.CharField(_("identifiant d'objet"), max_length=50, blank=True)
    data = models.JSONField(_("données"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    user_agent = models.CharField(_("navigateur"), max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("événements d'audit")
        ordering = ["pk"]
        indexes = [models.Index(fields=["case", "at"], name="auditevent_case_at")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_label}"
