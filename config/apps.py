from django.apps import AppConfig


class PiloteConfig(AppConfig):
    """Project-wide wiring: system checks, session bookkeeping, mail queue."""

    name = "config"
    label = "pilote"
    verbose_name = "Pilote"

    def ready(self) -> None:
        # Registers them; they import models, which load only once the app
        # registry is ready.
        from config import checks, mail, signals  # noqa: F401, PLC0415
        from config.account import signals as account  # noqa: F401, PLC0415
