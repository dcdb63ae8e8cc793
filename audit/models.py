"""AuditEvent: the append-only, hash-chained record of what happened.

Each event stores `prev_hash` and `hash = sha256(prev_hash + canonical JSON)`;
events are appended one at a time under a lock on the chain head, in the
same transaction as the business change. Updates and deletes are refused by
the model, its queryset and database triggers (audit/triggers.py).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Audit events are never updated nor deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only")

    _raw_delete = delete


class AuditEvent(models.Model):
    sequence = models.PositiveBigIntegerField(_("numéro"), unique=True)
    at = models.DateTimeField(_("le"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
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
        on_delete=models.PROTECT,
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
    # The request's X-Request-ID (config.logs), to find its log lines; "" for
    # commands and for events older than the field.
    request_id = models.CharField(
        _("identifiant de requête"), max_length=64, blank=True, default=""
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("événements d'audit")
        ordering = ["sequence"]
        indexes = [models.Index(fields=["case", "at"], name="auditevent_case_at")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        kwargs["force_insert"] = True
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")


class AuditChainHead(models.Model):
    """The last event of the chain (one row, pk=1), kept by a database trigger.

    Appenders lock this row, so the chain never forks.
    """

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("tête de la chaîne d'audit")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.hash[:12]}"


class AuditVerification(models.Model):
    """The result of each `audit_verify` run, for the audit log's banner."""

    at = models.DateTimeField(_("le"), default=timezone.now)
    ok = models.BooleanField(_("intacte"))
    checked = models.PositiveBigIntegerField(_("événements vérifiés"), default=0)
    first_broken = models.PositiveBigIntegerField(
        _("premier numéro en défaut"), null=True
    )
    message = models.TextField(_("détail"), blank=True)
    head_sequence = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("vérification de la chaîne")
        verbose_name_plural = _("vérifications de la chaîne")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'BROKEN'}"
