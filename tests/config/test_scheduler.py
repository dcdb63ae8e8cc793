from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from audit.models import AuditVerification
from config import clock
from config.management.commands import run_scheduler
from config.management.commands.run_scheduler import (
    Command,
    Job,
    first_runs,
    missed,
    next_run,
)
from config.models import JobRun
from tests.tasks import failed_tasks, run_tasks

PARIS = ZoneInfo("Europe/Paris")


def test_daily_jobs_run_at_their_local_time():
    job = Job("send_reminders", at="07:30")
    before = datetime(2026, 3, 2, 6, 0, tzinfo=PARIS)
    assert next_run(job, before) == datetime(2026, 3, 2, 7, 30, tzinfo=PARIS)
    after = datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)
    assert next_run(job, after) == datetime(2026, 3, 3, 7, 30, tzinfo=PARIS)


def test_frequent_jobs_run_every_n_seconds():
    start = datetime(2026, 3, 2, 6, 0, tzinfo=PARIS)
    assert (next_run(Job("x", every=60), start) - start).total_seconds() == 60


@pytest.mark.django_db
def test_once_runs_every_job(mailoutbox):
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out, stderr=out)
    # audit_verify ran and recorded its result; the reminders ran too.
    assert AuditVerification.objects.count() == 1
    assert "Reminders:" in out.getvalue()


def test_a_missed_daily_job_is_due_only_until_it_ran():
    job = Job("send_reminders", at="07:30")
    nine = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    assert missed(job, nine, None)
    assert missed(job, nine, datetime(2026, 3, 1, 7, 30, tzinfo=PARIS))
    assert missed(job, nine, datetime(2026, 3, 2, 6, 0, tzinfo=PARIS))  # --once
    assert not missed(job, nine, datetime(2026, 3, 2, 7, 30, 4, tzinfo=PARIS))
    seven = datetime(2026, 3, 2, 7, 0, tzinfo=PARIS)
    assert not missed(job, seven, None)  # today's time is still ahead
    assert not missed(Job("deliver_webhooks", every=60), nine, None)


class Recording(Command):
    def __init__(self):
        super().__init__(stdout=StringIO(), stderr=StringIO())
        self.ran: list[str] = []

    def _run(self, job):
        self.ran.append(job.command)
        super()._run(job)


@pytest.mark.django_db
def test_a_scheduler_started_late_runs_the_missed_digest_once(mailoutbox, monkeypatch):
    """Started at 09:00, the 07:30 digest runs at once; a restart skips it."""
    # Inside the test's transaction the connection is not in autocommit,
    # which close_old_connections() takes for a broken one and closes.
    monkeypatch.setattr(run_scheduler, "close_old_connections", lambda: None)
    jobs = [Job("send_reminders", at="07:30"), Job("audit_verify", at="23:00")]
    nine = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    with clock.frozen_at(nine):
        first = Recording()
        due = first_runs(jobs, clock.now())
        first.run_due(jobs, due)
    assert first.ran == ["send_reminders"]
    assert due["send_reminders"] == datetime(2026, 3, 3, 7, 30, tzinfo=PARIS)
    assert due["audit_verify"] == datetime(2026, 3, 2, 23, 0, tzinfo=PARIS)
    assert JobRun.objects.get(command="send_reminders").last_run_at == nine

    with clock.frozen_at(nine + timedelta(minutes=5)):  # restarted
        second = Recording()
        due = first_runs(jobs, clock.now())
        second.run_due(jobs, due)
    assert second.ran == []
    assert due["send_reminders"] == datetime(2026, 3, 3, 7, 30, tzinfo=PARIS)

    with clock.frozen_at(datetime(2026, 3, 3, 8, 0, tzinfo=PARIS)):  # next day
        third = Recording()
        third.run_due(jobs, first_runs(jobs, clock.now()))
    assert third.ran == ["send_reminders"]


@pytest.mark.django_db
def test_two_schedulers_enqueue_each_run_of_a_job_once(monkeypatch, mailoutbox):
    """Two hosts' schedulers at 07:30: one task, so one digest each."""
    monkeypatch.setattr(run_scheduler, "close_old_connections", lambda: None)
    jobs = [Job("send_reminders", at="07:30"), Job("deliver_webhooks", every=60)]
    half_past = datetime(2026, 3, 2, 7, 30, 2, tzinfo=PARIS)
    for seconds in (0, 3):  # the second scheduler wakes a little later
        with clock.frozen_at(half_past + timedelta(seconds=seconds)):
            Recording().run_due(jobs, {job.command: half_past for job in jobs})
    commands = sorted(row.args_kwargs["args"][0] for row in DBTaskResult.objects.all())
    assert commands == ["deliver_webhooks", "send_reminders"]
    # The next day is another run.
    with clock.frozen_at(half_past + timedelta(days=1)):
        Recording().run_due(jobs[:1], {"send_reminders": half_past + timedelta(days=1)})
    assert DBTaskResult.objects.count() == 3
    assert run_tasks() == 3 and not failed_tasks()
