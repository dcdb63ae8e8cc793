"""Mark sent quotes past their validity date as expired (run daily)."""

from django.core.management.base import BaseCommand

from documents import services


class Command(BaseCommand):
    help = "Mark sent quotes whose validity date has passed as expired."

    def handle(self, *args, **options):
        count = services.expire_quotes()
        self.stdout.write(self.style.SUCCESS(f"{count} quote(s) marked expired."))
