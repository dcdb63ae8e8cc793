"""Background work on Django's tasks API (django-tasks, database backend).

Three things the backend leaves to us, kept here so every task gets them:

- **Enqueued with the change.** `enqueue` writes the task row in the
  caller's transaction: a rolled-back change enqueues nothing, a committed
  one cannot lose its task (no window between the commit and the enqueue).
  A `key` makes the enqueue happen once: a second enqueue with the same key
  (another scheduler, a retried request) is a no-op.
- **Retried with backoff.** A task made with `@background(...)` that raises
  is enqueued again, later (`first_retry` seconds, then four times longer
  each attempt), up to `max_attempts`; every attempt's row keeps its error,
  so admins see what failed (admin › Tâches) and can run it again.
- **Never stranded.** A worker killed mid-task leaves its row "running".
  Each `run_worker` process beats six times per TASK_WORKER_TIMEOUT
  (`TaskWorker.seen_at`); any worker finding a running task whose worker
  has been silent for TASK_WORKER_TIMEOUT sets it ready again, so another
  worker runs it.

Tasks therefore run at least once: each one is written to be idempotent
(it checks what is already done, and e-mails carry a stable Message-ID).
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks.base import Task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from config.models import TaskKey, TaskWorker

logger = logging.getLogger(__name__)

ATTEMPT = "attempt"


def stale_after() -> timedelta:
    """A worker silent this long is gone (TASK_WORKER_TIMEOUT seconds)."""
    return timedelta(seconds=settings.TASK_WORKER_TIMEOUT)


def heartbeat() -> float:
    """Seconds between two beats of a worker."""
    return settings.TASK_WORKER_TIMEOUT / 6


def background(
    *, max_attempts: int = 5, first_retry: int = 30, queue_name: str = "default"
) -> Callable[[Callable], Task]:
    """Make a module-level function a task that retries when it raises."""

    def decorate(fn: Callable) -> Task:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            attempt = kwargs.pop(ATTEMPT, 1)
            try:
                return fn(*args, **kwargs)
            except Exception:
                if attempt < max_attempts:
                    delay = first_retry * 4 ** (attempt - 1)
                    later = the_task.using(
                        run_after=timezone.now() + timedelta(seconds=delay)
                    )
                    later.enqueue(*args, **kwargs, **{ATTEMPT: attempt + 1})
                    logger.warning(
                        "task %s failed (attempt %s of %s), retried in %ss",
                        fn.__name__,
                        attempt,
                        max_attempts,
                        delay,
                    )
                else:
                    logger.error(
                        "task %s failed %s times: given up", fn.__name__, attempt
                    )
                raise

        run.max_attempts = max_attempts
        the_task = task(queue_name=queue_name)(run)
        return the_task

    return decorate


def enqueue(the_task: Task, *args, key: str = "", **kwargs):
    """Enqueue `the_task` in the current transaction; once per `key`.

    Returns the task result, or None when `key` was enqueued before.
    """
    with transaction.atomic():
        if key:
            try:
                with transaction.atomic():
                    TaskKey.objects.create(key=key[:200])
            except IntegrityError:
                return None
        return the_task.enqueue(*args, **kwargs)


def retry(result: DBTaskResult) -> None:
    """Run a failed task again, as a first attempt (the admin's action)."""
    call = dict(result.args_kwargs)
    kwargs = dict(call.get("kwargs") or {})
    kwargs.pop(ATTEMPT, None)
    result.task.using(run_after=None).enqueue(*call.get("args", []), **kwargs)


# A periodic job fails alone and runs again at its next time: no retry.
@background(max_attempts=1)
def run_command(command: str) -> str:
    """A periodic job (`run_scheduler`), run by a worker; returns its output."""
    output = StringIO()
    call_command(command, stdout=output, stderr=output)
    return output.getvalue()[-2000:]


def drain() -> int:
    """Run every ready task now, in this process; return how many ran.

    For `seed_demo` (the demo is complete without a worker) and the tests:
    the worker's own loop would recycle the connection, which must not
    happen inside a transaction. Retries scheduled later are left queued.
    """
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"drain-{os.getpid()}",
        excluded_queue_names=[],
    )
    beat(worker.worker_id)  # alive, so no worker takes its task for stranded
    count = 0
    while (row := DBTaskResult.objects.ready().first()) is not None:
        row.claim(worker.worker_id)
        worker.run_task(row)
        count += 1
    return count


# --- Workers: heartbeats and stranded tasks ----------------------------------------


def beat(worker_id: str) -> None:
    """Say `worker_id` is alive."""
    TaskWorker.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "host": socket.gethostname()[:100],
            "pid": os.getpid(),
            "seen_at": timezone.now(),
        },
    )


def requeue_stranded(*, now=None) -> int:
    """Set ready again the running tasks of workers silent for too long.

    Returns how many. A task's last worker id is the one running it.
    """
    now = now or timezone.now()
    stale = stale_after()
    alive = set(
        TaskWorker.objects.filter(seen_at__gte=now - stale).values_list(
            "worker_id", flat=True
        )
    )
    stranded = [
        row.pk
        for row in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only(
            "id", "worker_ids"
        )
        if not row.worker_ids or row.worker_ids[-1] not in alive
    ]
    if not stranded:
        return 0
    count = DBTaskResult.objects.filter(
        pk__in=stranded, status=TaskResultStatus.RUNNING
    ).update(status=TaskResultStatus.READY, started_at=None)
    TaskWorker.objects.filter(seen_at__lt=now - stale * 10).delete()
    if count:
        logger.warning("%s task(s) of a stopped worker set ready again", count)
    return count
