"""Send the webhook deliveries that are due: new ones and retries (cron, every minute)."""

from django.core.management.base import BaseCommand

from flows.outbox import webhooks


class Command(BaseCommand):
    help = (
        "Send due webhook deliveries (retries with backoff, and what a stopped "
        "task worker left). Run it every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=int,
            default=500,
            help="At most this many deliveries per run (default 500).",
        )

    def handle(self, *args, limit: int, **options):
        counts = webhooks.deliver_due(limit=limit)
        self.stdout.write(
            f"Webhooks: {counts['delivered']} delivered, {counts['failed']} failed, "
            f"{counts['postponed']} postponed."
        )
