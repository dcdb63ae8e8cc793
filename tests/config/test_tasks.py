"""Background tasks: enqueued with the change, once per key, retried, never stranded."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEvent
from config import tasks
from config.models import TaskKey, TaskWorker
from tests import task_samples
from tests.processes import manage
from tests.tasks import run_tasks

Status = TaskResultStatus


@pytest.mark.django_db
def test_a_key_enqueues_once_and_a_rollback_enqueues_nothing(tmp_path):
    marker = str(tmp_path / "runs")
    assert tasks.enqueue(task_samples.flaky, marker, key="k1") is not None
    assert tasks.enqueue(task_samples.flaky, marker, key="k1") is None
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.enqueue(task_samples.flaky, marker, key="k2")
        raise RuntimeError("the change fails")
    assert DBTaskResult.objects.count() == 1
    assert list(TaskKey.objects.values_list("key", flat=True)) == ["k1"]


@pytest.mark.django_db
def test_a_failing_task_is_retried_with_backoff_then_given_up(tmp_path):
    marker = tmp_path / "runs"
    tasks.enqueue(task_samples.flaky, str(marker))
    delays = []
    for _attempt in range(3):
        assert run_tasks() == 1
        ready = DBTaskResult.objects.filter(status=Status.READY)
        for row in ready:
            delays.append(row.run_after - timezone.now())
            row.run_after = timezone.now()
            row.save(update_fields=["run_after"])
    assert marker.read_text() == "3"
    # Two retries, the second four times later than the first; then no more.
    assert len(delays) == 2
    assert timedelta(seconds=55) < delays[0] < timedelta(seconds=61)
    assert timedelta(seconds=235) < delays[1] < timedelta(seconds=241)
    failed = DBTaskResult.objects.filter(status=Status.FAILED)
    assert failed.count() == 3
    assert all("failed" in row.traceback for row in failed)


@pytest.mark.django_db
def test_an_admin_sees_failed_tasks_with_their_error_and_runs_one_again(
    client, admin_user, tmp_path
):
    marker = tmp_path / "runs"
    tasks.enqueue(task_samples.flaky, str(marker))
    run_tasks()
    failed = DBTaskResult.objects.get(status=Status.FAILED)
    client.force_login(admin_user)
    changelist = reverse("admin:django_tasks_database_dbtaskresult_changelist")
    page = client.get(changelist + "?status__exact=FAILED").content.decode()
    assert "flaky" in page
    detail = client.get(
        reverse("admin:django_tasks_database_dbtaskresult_change", args=[failed.pk])
    ).content.decode()
    assert "RuntimeError: run 1 failed" in detail
    DBTaskResult.objects.filter(status=Status.READY).delete()  # the auto-retry
    response = client.post(
        changelist,
        {"action": "run_again", "_selected_action": [str(failed.pk)]},
    )
    assert response.status_code == 302
    [again] = DBTaskResult.objects.filter(status=Status.READY)
    assert again.args_kwargs == failed.args_kwargs | {"kwargs": {}}
    assert DBTaskResult.objects.ready().filter(pk=again.pk).exists()  # due now
    assert AuditEvent.objects.filter(action="task_run_again").count() == 1


@pytest.mark.django_db
def test_a_member_cannot_see_the_tasks(client, member):
    client.force_login(member)
    response = client.get(
        reverse("admin:django_tasks_database_dbtaskresult_changelist")
    )
    assert response.status_code == 302  # to the admin login


@pytest.mark.django_db
def test_only_the_tasks_of_a_silent_worker_are_set_ready_again(tmp_path):
    now = timezone.now()
    TaskWorker.objects.create(worker_id="alive", seen_at=now)
    TaskWorker.objects.create(worker_id="gone", seen_at=now - timedelta(minutes=5))
    for worker in ("alive", "gone"):
        result = tasks.enqueue(task_samples.flaky, str(tmp_path / worker))
        row = DBTaskResult.objects.get(pk=result.id)
        row.claim(worker)
    assert tasks.requeue_stranded() == 1
    states = dict(DBTaskResult.objects.values_list("args_kwargs__args__0", "status"))
    assert states == {
        str(tmp_path / "alive"): Status.RUNNING,
        str(tmp_path / "gone"): Status.READY,
    }


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_has_its_task_run_by_another(tmp_path):
    """Two real `run_worker` processes: the first dies (SIGKILL) in a task."""
    folder = Path(tmp_path)
    result = tasks.enqueue(task_samples.slow_once, str(folder))
    timeout = {"TASK_WORKER_TIMEOUT": "3"}
    options = ("run_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2")
    first = manage(*options, **timeout)
    try:
        assert _wait_for((folder / "started").exists, 30), first.stdout
        first.kill()
        first.wait(10)
        row = DBTaskResult.objects.get(pk=result.id)
        assert row.status == Status.RUNNING  # stranded
        second = manage(*options, **timeout)
        try:
            assert _wait_for((folder / "done").exists, 40)
            assert _wait_for(
                lambda: (
                    DBTaskResult.objects.get(pk=result.id).status == Status.SUCCESSFUL
                ),
                10,
            )
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.return_value == "done at run 2"
    assert len(row.worker_ids) == 2 and row.worker_ids[0] != row.worker_ids[1]
