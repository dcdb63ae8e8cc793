"""The self-test's answers (DESIGN §1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
