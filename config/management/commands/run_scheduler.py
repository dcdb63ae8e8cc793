"""Pilote's periodic jobs, for setups without cron (the docker compose service).

At each job's time the scheduler enqueues it as a background task
(`config.tasks.run_command`) that a worker runs. The task is keyed on the
job and its time (the day, for a daily job), so two schedulers, on one
host or several, enqueue each run once. Every job is idempotent besides,
so a restart, or a job run twice, is harmless. A daily job whose time
today passed while no scheduler was running (a deploy, a crash, a reboot)
is enqueued once at start: `JobRun` remembers the last run of each job
across restarts, so a second start does not run it again. `--once` runs
every job here and now, without a worker.
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

from config import clock, tasks
from config.models import JobRun


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
    Job("prune_tasks", at="03:15"),
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


def missed(job: Job, now: datetime, last_run: datetime | None) -> bool:
    """True when today's time of a daily job has passed without a run since."""
    if not job.at:
        return False
    hour, minute = (int(part) for part in job.at.split(":"))
    local = timezone.localtime(now)
    today = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if today > local:  # today's time is still ahead
        return False
    return last_run is None or last_run < today


def first_runs(jobs: list[Job], now: datetime) -> dict[str, datetime]:
    """When each job runs first: now if it missed today's run, else next."""
    last = dict(JobRun.objects.values_list("command", "last_run_at"))
    return {
        job.command: now
        if missed(job, now, last.get(job.command))
        else next_run(job, now)
        for job in jobs
    }


def job_key(job: Job, due: datetime) -> str:
    """The same for every scheduler enqueueing this run of `job`."""
    if job.every:
        return f"job:{job.command}:{int(due.timestamp()) // job.every}"
    return f"job:{job.command}:{timezone.localdate(due).isoformat()}"


def record_run(job: Job, at: datetime) -> None:
    JobRun.objects.update_or_create(command=job.command, defaults={"last_run_at": at})


class Command(BaseCommand):
    help = (
        "Enqueue Pilote's periodic jobs, forever, for the task workers: reminders "
        "07:30, quote expiry 00:15, session cleanup 03:00, audit chain check "
        "02:30, task pruning 03:15, webhook retries every minute. Use cron "
        "instead if you have it (see README)."
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
                self._run(job, inline=True)
            return
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        due = first_runs(jobs, clock.now())
        self.stdout.write(
            "Scheduler started: "
            + ", ".join(
                f"{name} at {timezone.localtime(when):%Y-%m-%d %H:%M}"
                for name, when in due.items()
            )
        )
        while not stopping:
            self.run_due(jobs, due)
            time.sleep(5)

    def run_due(self, jobs: list[Job], due: dict[str, datetime]) -> None:
        """Run the jobs whose time has come; move each to its next time."""
        for job in jobs:
            if due[job.command] <= clock.now():
                # A long-lived process: drop connections the database
                # may have closed meanwhile.
                close_old_connections()
                self._run(job)
                due[job.command] = next_run(job, clock.now())

    def _run(self, job: Job, *, inline: bool = False) -> None:
        started = clock.now()
        try:
            if inline:
                call_command(job.command, stdout=self.stdout, stderr=self.stderr)
            elif tasks.enqueue(
                tasks.run_command, job.command, key=job_key(job, started)
            ):
                self.stdout.write(f"{job.command} enqueued")
        except SystemExit as exit_:  # audit_verify exits 1 on a broken chain
            if exit_.code:
                self.stderr.write(f"{job.command} exited with {exit_.code}")
        except Exception as error:  # noqa: BLE001 - one job failing must not stop the others
            self.stderr.write(f"{job.command} failed: {error!r}")
        if not job.at:
            return  # frequent jobs need no catching up
        # Recorded whatever the outcome: a failed job retries on its own
        # terms (the next run of the job), not on every restart.
        try:
            record_run(job, started)
        except Exception as error:  # noqa: BLE001 - the database may be down
            self.stderr.write(f"{job.command}: run not recorded: {error!r}")
