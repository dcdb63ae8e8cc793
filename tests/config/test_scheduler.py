from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from audit.models import AuditVerification
from config.management.commands.run_scheduler import Job, next_run

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
