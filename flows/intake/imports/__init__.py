"""CSV import: read a spreadsheet export, guess the mapping, preview, import.

The page (`flows.intake.views.imports`) and `manage.py import_cases` share
this package, through the names below:

- `reading`: encoding, separator, header and rows, streamed;
- `mapping`: the fields, their synonyms, the guessed mapping;
- `parsing`: amounts, dates and times as French spreadsheets write them;
- `validation`: the options and each row checked cell by cell;
- `running`: the preview, the invalid rows as CSV, the import;
- `storage`: uploaded files, kept then purged;
- `background`: large files imported by a task, with their progress.

The modules import one another directly, never through this file.
"""

from flows.intake.imports.background import (
    import_in_background,
    progress,
    row_count,
    start,
)
from flows.intake.imports.mapping import FIELDS, guess_mapping, mapping_problems
from flows.intake.imports.parsing import (
    parse_amount,
    parse_date,
    parse_datetime,
    working_days_after,
)
from flows.intake.imports.reading import FileInfo, ImportFileError, Source, rows, sniff
from flows.intake.imports.running import (
    AlreadyImported,
    ImportResult,
    Preview,
    describe_errors,
    error_lines,
    preview,
    run_import,
)
from flows.intake.imports.storage import (
    column_examples,
    info_of,
    path_source,
    purge_old_files,
    save_upload,
    storage_source,
)
from flows.intake.imports.validation import (
    Options,
    Row,
    default_next_action,
    import_owners,
    importable_statuses,
    validate,
)

__all__ = [
    "FIELDS",
    "AlreadyImported",
    "FileInfo",
    "ImportFileError",
    "ImportResult",
    "Options",
    "Preview",
    "Row",
    "Source",
    "column_examples",
    "default_next_action",
    "describe_errors",
    "error_lines",
    "guess_mapping",
    "import_in_background",
    "import_owners",
    "importable_statuses",
    "info_of",
    "mapping_problems",
    "parse_amount",
    "parse_date",
    "parse_datetime",
    "path_source",
    "preview",
    "progress",
    "purge_old_files",
    "row_count",
    "rows",
    "run_import",
    "save_upload",
    "sniff",
    "start",
    "storage_source",
    "validate",
    "working_days_after",
]
