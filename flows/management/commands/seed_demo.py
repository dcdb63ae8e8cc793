"""Demo users, the preset flow and demo cases, for trying Pilote."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from documents import demo as documents_demo
from flows import access, demo, presets

DEMO_PASSWORD = "pilote-demo"
DEMO_USERS = [
    # username, first name, last name, role
    ("admin", "Alice", "Martin", access.ADMIN),
    ("manon", "Manon", "Lefèvre", access.MANAGER),
    ("louis", "Louis", "Bernard", access.MEMBER),
    ("sarah", "Sarah", "Dubois", access.MEMBER),
]


class Command(BaseCommand):
    help = "Create the demo users (password 'pilote-demo'), the preset flow and demo cases. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even when DEBUG is off (never on a real production database).",
        )
        parser.add_argument("--lang", choices=["fr", "en"], default="fr")

    def handle(self, *args, force: bool = False, lang: str = "fr", **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a public password: it refuses to "
                "run when DEBUG is off. Use --force if this really is a demo."
            )
        access.ensure_roles()
        User = get_user_model()
        for username, first_name, last_name, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@demo.pilote.invalid",
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            access.set_role(user, role)
        flow = presets.load_lead_to_signature(lang)
        created_cases = demo.seed_cases(flow)
        documents_demo.seed_documents(flow)  # issue 5: documents and quotes
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready: users "
                + ", ".join(
                    f"{username} ({role})" for username, _f, _l, role in DEMO_USERS
                )
                + f", password {DEMO_PASSWORD}; {created_cases} new demo cases."
            )
        )
