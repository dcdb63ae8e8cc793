"""Check a restored installation: the rows, the audit chain, the files.

Run it after every restore (docs/deployment.md, section 5). A database
restored without its media folder (or bucket) answers 404 for every
document, and nothing else notices until someone clicks: this command
lists each document whose file is not in storage, checks the audit
chain and prints its head (compare it with the head written down at backup
time), and the row counts of the main tables. Exit 0 when everything is
there, 1 otherwise. Read-only.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from audit import services as audit_services
from audit.models import AuditEvent
from documents.models import CompanyProfile, Document, Quote
from flows.models import Case, Flow, StatusChange, WebhookDelivery

# How many missing files are printed by name; the count is always given.
MAX_LISTED = 200


def main_tables() -> list[tuple[str, int]]:
    models = [
        ("users", get_user_model()),
        ("flows", Flow),
        ("cases", Case),
        ("status changes", StatusChange),
        ("documents", Document),
        ("quotes", Quote),
        ("audit events", AuditEvent),
        ("webhook deliveries", WebhookDelivery),
    ]
    return [(label, model.objects.count()) for label, model in models]


def missing_files() -> list[str]:
    """Documents (every version) and the logo whose file is not in storage.

    Older versions are checked too: the case page offers them for download.
    """
    missing = []
    documents = (
        Document.objects.exclude(file="")
        .order_by("pk")
        .values_list("pk", "file", "original_name", "is_current")
    )
    for pk, name, original, current in documents.iterator():
        if not default_storage.exists(name):
            version = "" if current else ", older version"
            missing.append(f"document #{pk} {name} ({original}{version})")
    logo = CompanyProfile.objects.exclude(logo="").values_list("logo", flat=True)
    missing += [f"logo {name}" for name in logo if not default_storage.exists(name)]
    return missing


class Command(BaseCommand):
    help = (
        "After a restore: print the row counts of the main tables and the audit "
        "chain head, check the chain, and check that every document's file "
        "(each version) is in storage. Exit 1 listing what is missing or broken."
    )

    def handle(self, *args, **options):
        for label, count in main_tables():
            self.stdout.write(f"{label:>20}: {count}")
        sequence, digest = audit_services.head()
        self.stdout.write(f"Audit chain head: {sequence}:{digest}")
        problems = 0
        report = audit_services.verify_chain()
        if report.ok:
            self.stdout.write(f"Audit chain intact: {report.checked} events")
        else:
            problems += 1
            self.stderr.write(
                f"Audit chain BROKEN at event {report.first_broken}: {report.reason}"
            )
        missing = missing_files()
        if missing:
            problems += 1
            self.stderr.write(
                f"{len(missing)} file(s) missing from storage "
                f"({default_storage.__class__.__name__}): restore the media "
                "folder or bucket from the same backup."
            )
            for line in missing[:MAX_LISTED]:
                self.stderr.write(f"  missing: {line}")
            if len(missing) > MAX_LISTED:
                self.stderr.write(f"  … and {len(missing) - MAX_LISTED} more")
        else:
            self.stdout.write("Every document's file is in storage.")
        if problems:
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("Restore looks complete."))
