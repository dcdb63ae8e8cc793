from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Journal d'audit")

    def ready(self) -> None:
        # Connects the login observers; signals import models, which load
        # only once the app registry is ready.
        from audit import signals  # noqa: F401, PLC0415
