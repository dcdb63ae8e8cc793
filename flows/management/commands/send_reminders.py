"""Send today's reminder digests (cron: once each morning; idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from flows.workspace import reminders


class Command(BaseCommand):
    help = (
        "E-mail each team member a digest of what is due today (overdue and "
        "due-today next actions, stale cases, clients expected back today), in "
        "their language. Running it again the same day sends nothing new; "
        "nobody with nothing due gets an e-mail."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default=settings.PUBLIC_BASE_URL or "http://localhost:8000",
            help="Public address of Pilote, for the links in the e-mails "
            "(default: the PUBLIC_BASE_URL setting, else http://localhost:8000).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the digests without sending or recording them.",
        )

    def handle(self, *args, base_url: str, dry_run: bool = False, **options):
        summary = reminders.send_digests(base_url=base_url, dry_run=dry_run)
        verb = "would send" if dry_run else "sent"
        self.stdout.write(
            f"Reminders: {summary.sent} {verb}, {summary.already_sent} already sent "
            f"today, {summary.nothing_due} with nothing due."
        )
        if summary.failed:
            raise CommandError(
                "Some digests could not be sent (the next run retries them): "
                + "; ".join(summary.failed)
            )
