"""Data coming in: CSV imports and the public lead form."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_import_token() -> str:
    return secrets.token_urlsafe(24)


class ImportRun(models.Model):
    """One uploaded CSV file, from its preview to its import.

    The file waits in private storage between the preview and the import, so
    the import re-reads and re-validates exactly what was previewed; the row
    lock on this run makes a double submit import once.
    """

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("chargé")
        # A large file, imported by a background task (docs/data-in-and-out.md).
        RUNNING = "running", _("import en cours")
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
