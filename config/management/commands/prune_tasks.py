"""Forget finished background tasks after a while (daily; idempotent)."""

from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from config.models import TaskKey


class Command(BaseCommand):
    help = (
        "Delete successful task results older than 14 days and failed ones "
        "older than 90 (admins look at failures first), and enqueue keys "
        "older than 90 days."
    )

    def handle(self, *args, **options):
        call_command(
            "prune_db_task_results",
            queue_name="*",
            min_age_days=14,
            failed_min_age_days=90,
            stdout=self.stdout,
        )
        old = timezone.now() - timedelta(days=90)
        deleted, _ = TaskKey.objects.filter(created_at__lt=old).delete()
        self.stdout.write(f"Task keys: {deleted} deleted.")
