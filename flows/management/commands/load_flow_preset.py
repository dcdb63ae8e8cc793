from django.core.management.base import BaseCommand, CommandError

from flows import presets


class Command(BaseCommand):
    help = "Create a preset flow (idempotent): lead-to-signature."

    def add_arguments(self, parser):
        parser.add_argument("preset", choices=sorted(presets.PRESETS))
        parser.add_argument("--lang", choices=["fr", "en"], default="fr")

    def handle(self, *args, preset: str, lang: str, **options):
        loader = getattr(presets, presets.PRESETS[preset], None)
        if loader is None:
            raise CommandError(f"Unknown preset {preset!r}")
        flow = loader(lang)
        statuses = flow.statuses.count()
        transitions = flow.transitions.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Flow '{flow.name}' ready: {statuses} statuses, {transitions} transitions"
                f"{' (active)' if flow.is_active else ''}."
            )
        )
