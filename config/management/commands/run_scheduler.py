"""Pilote's periodic jobs, for setups without cron (the docker compose service).

Every job is idempotent, so a restart, or a job run twice, is harmless.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone


@dataclass(frozen=True)
class Job:
    command: str
    at: str = ""  # "HH:MM" local time, once a day
    every: int = 0  # or every N seconds


JOBS = [
    Job("send_reminders", at="07:30"),
    Job("expire_quotes", at="00:15"),
    Job("clearsessions", at="03:00"),
    Job("audit_verify", at="02:30"),
    Job("deliver_webhooks", every=60),
]


def next_run(job: Job, after: datetime) -> datetime:
    if job.every:
        return after + timedelta(seconds=job.every)
    hour, minute = (int(part) for part in job.at.split(":"))
    local = timezone.localtime(after)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


class Command(BaseCommand):
    help = (
        "Run Pilote's periodic jobs forever: reminders 07:30, quote expiry 00:15, "
        "session cleanup 03:00, audit chain check 02:30, webhook retries every "
        "minute. Use cron instead if you have it (see README)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Run every job once, then stop."
        )

    def handle(self, *args, once: bool = False, **options):
        available = get_commands()
        jobs = [job for job in JOBS if job.command in available]
        if once:
            for job in jobs:
                self._run(job)
            return
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        now = timezone.now()
        due = {job.command: next_run(job, now) for job in jobs}
        self.stdout.write(
            "Scheduler started: "
            + ", ".join(
                f"{name} at {timezone.localtime(when):%Y-%m-%d %H:%M}"
                for name, when in due.items()
            )
        )
        while not stopping:
            now = timezone.now()
            for job in jobs:
                if due[job.command] <= now:
                    # A long-lived process: drop connections the database
                    # may have closed meanwhile.
                    close_old_connections()
                    self._run(job)
                    due[job.command] = next_run(job, timezone.now())
            time.sleep(5)

    def _run(self, job: Job) -> None:
        try:
            call_command(job.command, stdout=self.stdout, stderr=self.stderr)
        except SystemExit as exit_:  # audit_verify exits 1 on a broken chain
            if exit_.code:
                self.stderr.write(f"{job.command} exited with {exit_.code}")
        except Exception as error:  # noqa: BLE001 - one job failing must not stop the others
            self.stderr.write(f"{job.command} failed: {error!r}")
