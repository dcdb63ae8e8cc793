"""Run background tasks: django-tasks-db's `db_worker`, with a heartbeat.

Same options as `db_worker` (`--batch`, `--interval`, `--queue-name`, …).
Beside the worker loop, a thread records every few seconds that this process
is alive and sets ready again the tasks of workers that stopped beating
(killed mid-task): see `config.tasks`. Run one or more per host; they all
share the queue.
"""

from __future__ import annotations

import logging
import os
import threading

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from config import tasks

logger = logging.getLogger(__name__)


class Heart(threading.Thread):
    """Beats for `worker_id` until stopped; recovers stranded tasks."""

    def __init__(self, worker_id: str):
        super().__init__(name="pilote-task-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def pulse(self) -> None:
        try:
            tasks.beat(self.worker_id)
            tasks.requeue_stranded()
        except Exception:  # noqa: BLE001 - the database may be down: beat again later
            logger.exception("task worker heartbeat")

    def run(self) -> None:
        while not self.stopped.wait(tasks.heartbeat()):
            self.pulse()
            connections.close_all()  # this thread's connections only


class Command(db_worker.Command):
    help = (
        "Run Pilote's background tasks (e-mails, signed copies, webhooks, "
        "imports, periodic jobs). Run one or more per host."
    )

    def handle(self, *args, **options):
        # With --reload, this process only watches files; its child (same
        # command, DJANGO_AUTORELOAD_ENV set) is the worker that beats.
        reloading_parent = (
            options.get("reload")
            and not options.get("batch")
            and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        )
        if reloading_parent:
            return super().handle(*args, **options)
        heart = Heart(options["worker_id"])
        heart.pulse()  # alive before the first task is claimed
        if options.get("batch"):
            # Runs what is due and stops: no beating thread to outlive it.
            return super().handle(*args, **options)
        heart.start()
        try:
            return super().handle(*args, **options)
        finally:
            heart.stopped.set()
