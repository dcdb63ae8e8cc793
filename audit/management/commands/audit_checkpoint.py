from django.core.management.base import BaseCommand
from django.utils import timezone

from audit import services


class Command(BaseCommand):
    help = (
        "Print the head of the audit chain (sequence, hash, time) to keep outside "
        "the database; check it later with audit_verify --checkpoint SEQ:HASH."
    )

    def handle(self, *args, **options):
        sequence, digest = services.head()
        self.stdout.write(f"{sequence}:{digest} {timezone.now().isoformat()}")
