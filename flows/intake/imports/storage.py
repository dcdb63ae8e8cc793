"""Uploaded files: kept in private storage between the upload, the preview
and the import, then purged after IMPORT_FILE_RETENTION_HOURS."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from config import clock
from flows.intake.imports.reading import FileInfo, ImportFileError, Source, rows, sniff
from flows.models import ImportRun


def storage_source(name: str) -> Source:
    return lambda: default_storage.open(name, "rb")


def path_source(path) -> Source:
    return lambda: open(path, "rb")  # noqa: SIM115 - closed by the caller's with


def save_upload(upload, *, user) -> ImportRun:
    """Keep an uploaded file in private storage and describe it.

    Raises ImportFileError for a file too big or not a readable CSV; old
    files are purged on the way.
    """
    purge_old_files()
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("Fichier trop volumineux : %(mb)s Mo au plus.")
            % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    run = ImportRun(created_by=user, original_name=upload.name[:255], size=upload.size)
    name = default_storage.save(f"imports/{run.token}.csv", upload)
    try:
        info = sniff(storage_source(name))
    except ImportFileError:
        default_storage.delete(name)
        raise
    run.file_name = name
    run.encoding, run.delimiter, run.headers = (
        info.encoding,
        info.delimiter,
        info.headers,
    )
    run.created_at = clock.now()
    run.save()
    return run


def info_of(run: ImportRun) -> FileInfo:
    return FileInfo(encoding=run.encoding, delimiter=run.delimiter, headers=run.headers)


def column_examples(run: ImportRun, *, count: int) -> list[list[str]]:
    """The first non-empty values of each column, to help with the mapping;
    none when the file can no longer be read."""
    try:
        first = [
            cells
            for _line, cells in islice(
                rows(storage_source(run.file_name), info_of(run)), count
            )
        ]
    except ImportFileError:
        first = []
    return [
        [cells[index] for cells in first if index < len(cells) and cells[index].strip()]
        for index in range(len(run.headers))
    ]


def purge_old_files() -> int:
    """Delete uploaded files older than IMPORT_FILE_RETENTION_HOURS."""
    limit = clock.now() - timedelta(hours=settings.IMPORT_FILE_RETENTION_HOURS)
    old = ImportRun.objects.filter(created_at__lt=limit).exclude(file_name="")
    count = 0
    for run in old:
        default_storage.delete(run.file_name)
        ImportRun.objects.filter(pk=run.pk).update(file_name="")
        count += 1
    return count
