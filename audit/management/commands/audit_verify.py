from django.core.management.base import BaseCommand, CommandError

from audit import services


class Command(BaseCommand):
    help = (
        "Walk the audit chain. Exit 0 when intact; otherwise exit 1 and print "
        "the first broken sequence number and why."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            metavar="SEQ:HASH",
            help="Also check that the chain still contains this head (from audit_checkpoint).",
        )

    def handle(self, *args, checkpoint=None, **options):
        expected = None
        if checkpoint:
            try:
                sequence, digest = checkpoint.split(":", 1)
                expected = (int(sequence), digest.strip().lower())
            except ValueError as error:
                raise CommandError(
                    "--checkpoint takes SEQ:HASH, e.g. 1042:3fa9…"
                ) from error
        report = services.verify_chain(checkpoint=expected)
        services.save_verification(report)
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit chain intact: {report.checked} events, head "
                    f"{report.head_sequence}:{report.head_hash}"
                )
            )
            return
        self.stderr.write(
            f"Audit chain BROKEN at event {report.first_broken}: {report.reason} "
            f"({report.checked} events checked before it)"
        )
        raise SystemExit(1)
