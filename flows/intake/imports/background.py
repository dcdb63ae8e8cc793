"""Large imports in a background task, with their progress.

Above IMPORT_BACKGROUND_ROWS rows, the import page does not make the
manager wait on one long request: `start` marks the run *running* and
enqueues `import_in_background` in the same transaction (the run's lock
makes a double click start it once), and the page shows a progress bar
until the run is imported. The import itself is unchanged: one
transaction, all of the valid rows or none.

The progress (rows read) goes to the default cache, the one place a
worker on another process or host can write while the import's
transaction is still open; with the per-process cache of the embedded
default it stays in the worker, and the page shows a bar without a value.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config import tasks
from flows.engine import selectors
from flows.intake.imports.reading import ImportFileError, rows
from flows.intake.imports.running import AlreadyImported, run_import
from flows.intake.imports.storage import info_of, storage_source
from flows.intake.imports.validation import Options
from flows.models import ImportRun

State = ImportRun.State


def progress_key(run: ImportRun | int) -> str:
    return f"import-progress:{getattr(run, 'pk', run)}"


def row_count(run: ImportRun) -> int:
    """The data rows of the uploaded file (one quick read, no validation)."""
    return sum(1 for _row in rows(storage_source(run.file_name), info_of(run)))


def start(run: ImportRun, options: Options, *, user, total: int) -> bool:
    """Hand the import of `run` to a task; False if it was started already."""
    with transaction.atomic():
        locked = ImportRun.objects.select_for_update().get(pk=run.pk)
        if locked.state != State.UPLOADED:
            return False
        locked.state = State.RUNNING
        locked.options = options.to_json()
        locked.result = {"total": total}
        locked.save(update_fields=["state", "options", "result"])
        tasks.enqueue(import_in_background, locked.pk, user.pk)
    cache.set(progress_key(run), 0, 3600)
    return True


def progress(run: ImportRun) -> tuple[int | None, int]:
    """(rows read so far or None when unknown here, rows in the file)."""
    return cache.get(progress_key(run)), int((run.result or {}).get("total", 0))


# One attempt: a failure puts the run back to the preview with its error,
# where the manager decides (a worker that died mid-import is different:
# its task is run again, and the rolled-back import starts over).
@tasks.background(max_attempts=1)
def import_in_background(run_id: int, user_id: int) -> dict:
    run = ImportRun.objects.get(pk=run_id)
    if run.state != State.RUNNING:
        return {"skipped": run.state}
    try:
        result = run_import(
            storage_source(run.file_name),
            info_of(run),
            Options.from_json(run.options),
            flow=selectors.active_flow(),
            user=get_user_model().objects.get(pk=user_id),
            file_name=run.original_name,
            run=run,
            progress=lambda read: cache.set(progress_key(run_id), read, 3600),
        )
    except AlreadyImported:
        return {"skipped": "imported"}
    except (ImportFileError, ValidationError) as error:
        _give_back(
            run_id,
            str(error)
            if isinstance(error, ImportFileError)
            else " ".join(error.messages),
        )
        return {"error": "refused"}
    except Exception:
        _give_back(
            run_id, _("Erreur inattendue pendant l'import : rien n'a été importé.")
        )
        raise
    finally:
        cache.delete(progress_key(run_id))
    return result.as_dict()


def _give_back(run_id: int, error: str) -> None:
    """Nothing was imported: back to the preview, with the reason."""
    ImportRun.objects.filter(pk=run_id, state=State.RUNNING).update(
        state=State.UPLOADED, result={"error": error}
    )
