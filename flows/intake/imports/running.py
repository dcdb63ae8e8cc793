"""Preview and import: the same validation over the whole file.

The import re-reads and re-validates the file, it never trusts the preview;
it writes the valid rows in batches inside one transaction through
`services.create_cases_bulk` (references, history, entry rows, webhooks)
and records one `import` audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock
from config import csv as safe_csv
from flows.engine import services
from flows.intake.imports.reading import FileInfo, Source, rows
from flows.intake.imports.validation import (
    Context,
    Options,
    Row,
    build_context,
    validate,
)
from flows.models import Case, Flow, ImportRun
from flows.outbox import webhooks

# How many invalid or duplicate rows the preview lists (all are counted).
SHOWN_ROWS = 100
# How often a background import says how far it got.
PROGRESS_EVERY = 200
SAMPLE_ROWS = 5


class AlreadyImported(Exception):
    """The run was imported already (a double submit); nothing was written."""


def _skipped(row: Row, ctx: Context) -> bool:
    return bool(row.duplicate_of) and ctx.options.skip_duplicates


# --- Preview ------------------------------------------------------------------------


@dataclass
class Preview:
    total: int = 0
    invalid: int = 0
    duplicates: int = 0
    to_create: int = 0
    defaulted: int = 0
    invalid_rows: list[Row] = field(default_factory=list)
    duplicate_rows: list[Row] = field(default_factory=list)
    sample: list[Row] = field(default_factory=list)

    @property
    def valid(self) -> int:
        return self.total - self.invalid


def preview(source: Source, info: FileInfo, options: Options, *, flow: Flow) -> Preview:
    """What an import would do, without writing anything.

    Raises ImportFileError or ValidationError (options).
    """
    ctx = build_context(flow, options)
    result = Preview()
    for line, cells in rows(source, info):
        row = validate(line, cells, ctx)
        result.total += 1
        if not row.valid:
            result.invalid += 1
            if len(result.invalid_rows) < SHOWN_ROWS:
                result.invalid_rows.append(row)
            continue
        if row.duplicate_of:
            result.duplicates += 1
            if len(result.duplicate_rows) < SHOWN_ROWS:
                result.duplicate_rows.append(row)
        if _skipped(row, ctx):
            continue
        result.to_create += 1
        result.defaulted += row.defaulted
        if len(result.sample) < SAMPLE_ROWS:
            result.sample.append(row)
    return result


def error_lines(
    source: Source, info: FileInfo, options: Options, *, flow: Flow
) -> Iterator[str]:
    """The invalid rows as CSV lines (the file's columns plus "Erreurs"),
    UTF-8 with a BOM and the file's separator, to fix and re-import.

    Raises ValidationError (options) at once, before any line is produced.
    """
    ctx = build_context(flow, options)
    return _error_lines(source, info, ctx)


def _error_lines(source: Source, info: FileInfo, ctx: Context) -> Iterator[str]:
    # The file's own cells and headers, echoed: safe_csv neutralises them.
    return safe_csv.lines(
        [*info.headers, _("Erreurs")],
        _error_rows(source, info, ctx),
        delimiter=info.delimiter,
        bom=True,
    )


def _error_rows(source: Source, info: FileInfo, ctx: Context) -> Iterator[list[str]]:
    for line, cells in rows(source, info):
        row = validate(line, cells, ctx)
        if row.valid:
            continue
        cells = cells + [""] * (len(info.headers) - len(cells))
        yield [*cells[: len(info.headers)], describe_errors(row, info)]


def describe_errors(row: Row, info: FileInfo) -> str:
    return " | ".join(
        _("%(column)s : %(message)s") % {"column": column, "message": message}
        for column, _value, message in row.error_items(info.headers)
    )


# --- Import -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    total: int = 0
    created: int = 0
    invalid: int = 0
    duplicates: int = 0
    skipped_duplicates: int = 0
    defaulted: int = 0
    first_reference: str = ""
    last_reference: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def run_import(
    source: Source,
    info: FileInfo,
    options: Options,
    *,
    flow: Flow,
    user,
    file_name: str,
    actor_label: str = "",
    run: ImportRun | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Create the valid rows' cases in one transaction: all of them or none.

    Re-reads and re-validates the file. Invalid rows are left out (and
    counted); duplicates too with `skip_duplicates`. Raises ImportFileError,
    ValidationError (options) or AlreadyImported (the run was imported).
    `progress(rows_read)` is called every PROGRESS_EVERY rows.
    """
    with transaction.atomic():
        if run is not None:
            # The lock makes a double submit wait, then find it done.
            run = ImportRun.objects.select_for_update().get(pk=run.pk)
            if run.state == ImportRun.State.IMPORTED:
                raise AlreadyImported
        ctx = build_context(flow, options)
        batch = _Batch(ctx, user=user)
        for row in _importable_rows(source, info, ctx, batch.result, progress):
            batch.add(row.case)
        batch.flush()
        audit.record(
            "import",
            user=user,
            actor_label=actor_label,
            obj=run,
            data=_audit_data(ctx, info, file_name) | batch.result.as_dict(),
        )
        if run is not None:
            run.state = ImportRun.State.IMPORTED
            run.imported_at = clock.now()
            run.options = options.to_json()
            run.result = batch.result.as_dict()
            run.save(update_fields=["state", "imported_at", "options", "result"])
        webhooks.dispatch_on_commit(batch.deliveries)
    return batch.result


def _importable_rows(
    source: Source,
    info: FileInfo,
    ctx: Context,
    result: ImportResult,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Row]:
    """The rows to create, every row counted into `result` on the way."""
    for line, cells in rows(source, info):
        row = validate(line, cells, ctx)
        result.total += 1
        if progress is not None and result.total % PROGRESS_EVERY == 0:
            progress(result.total)
        if not row.valid:
            result.invalid += 1
            continue
        if row.duplicate_of:
            result.duplicates += 1
        if _skipped(row, ctx):
            result.skipped_duplicates += 1
            continue
        result.defaulted += row.defaulted
        yield row


class _Batch:
    """The valid rows' cases, inserted IMPORT_BATCH_SIZE at a time."""

    def __init__(self, ctx: Context, *, user):
        self.ctx = ctx
        self.user = user
        self.size = settings.IMPORT_BATCH_SIZE
        self.hooks = webhooks.subscribed([webhooks.Event.CASE_CREATED])
        self.cases: list[Case] = []
        self.deliveries: list[int] = []
        self.result = ImportResult()

    def add(self, case: Case) -> None:
        self.cases.append(case)
        if len(self.cases) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.cases:
            return
        self.deliveries.extend(
            services.create_cases_bulk(
                self.cases, status=self.ctx.status, user=self.user, hooks=self.hooks
            )
        )
        result = self.result
        result.first_reference = result.first_reference or self.cases[0].reference
        result.last_reference = self.cases[-1].reference
        result.created += len(self.cases)
        self.cases.clear()


def _audit_data(ctx: Context, info: FileInfo, file_name: str) -> dict:
    options = ctx.options
    return {
        "file": file_name,
        "status": ctx.status.code,
        "owner": ctx.default_owner.get_username() if ctx.default_owner else None,
        "skip_duplicates": options.skip_duplicates,
        "mapping": {
            info.headers[index]: target
            for index, target in sorted(options.mapping.items())
            if index < len(info.headers)
        },
    }
