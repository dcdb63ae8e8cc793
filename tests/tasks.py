"""Running the background tasks a test enqueued, with the worker's own code."""

from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from config import tasks


def run_tasks() -> int:
    """Run every ready task (`config.tasks.drain`); return how many ran."""
    return tasks.drain()


def failed_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(status=TaskResultStatus.FAILED))
