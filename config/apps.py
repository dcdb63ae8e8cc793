from django.apps import AppConfig


class PiloteConfig(AppConfig):
    """Project-wide wiring: system checks and session bookkeeping."""

    name = "config"
    label = "pilote"
    verbose_name = "Pilote"

    def ready(self) -> None:
        from config import checks, signals  # noqa: F401  (registers them)
