"""Import cases from a CSV file: the import page's code, from the command line.

    manage.py import_cases FILE [--mapping "Société=company,E-mail=email,..."]
        [--status CODE] [--owner USERNAME] [--skip-duplicates] [--dry-run]
        [--user USERNAME] [--errors ERRORS.csv]

Without --mapping the mapping is guessed from the header names (and printed).
A column is named by its header or its number (1 = the first column).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit import services as audit
from config import http
from flows.engine import normalize, selectors
from flows.intake import imports


class Command(BaseCommand):
    help = "Import cases from a CSV file (preview with --dry-run)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--mapping",
            default="",
            help='Columns to fields: "Société=company,E-mail=email,3=amount". '
            f"Fields: {', '.join(imports.FIELDS)}. Default: guessed from the headers.",
        )
        parser.add_argument(
            "--status",
            default="",
            help="Status code of the imported cases (default: the initial status).",
        )
        parser.add_argument(
            "--owner",
            default="",
            help="Username of the default owner (default: unassigned).",
        )
        parser.add_argument(
            "--skip-duplicates",
            action="store_true",
            help="Leave out rows with the e-mail, phone or company of an existing case.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show the preview; write nothing."
        )
        parser.add_argument(
            "--user",
            default="",
            help="Username recorded as the author (default: the system).",
        )
        parser.add_argument(
            "--errors", type=Path, help="Write the invalid rows to this CSV file."
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        flow = selectors.active_flow()
        if flow is None:
            raise CommandError("No active flow.")
        source = imports.path_source(path)
        try:
            info = imports.sniff(source)
        except imports.ImportFileError as error:
            raise CommandError(str(error)) from error
        run_options = self._run_options(options, info, flow)
        users = get_user_model().objects
        user = self._user(users, options["user"]) if options["user"] else None
        self.stdout.write(
            f"{path.name}: {info.encoding}, separator {info.delimiter!r}, "
            f"{len(info.headers)} columns"
        )
        for index, target in sorted(run_options.mapping.items()):
            self.stdout.write(f"  {info.headers[index]} → {target}")
        try:
            if options["errors"]:
                self._write_errors(options["errors"], source, info, run_options, flow)
            if options["dry_run"]:
                self._preview(source, info, run_options, flow)
                return
            result = imports.run_import(
                source,
                info,
                run_options,
                flow=flow,
                user=user,
                file_name=path.name,
                actor_label="" if user else audit.SYSTEM,
            )
        except imports.ImportFileError as error:
            raise CommandError(str(error)) from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self._report(result)

    def _run_options(self, options, info, flow) -> imports.Options:
        mapping = (
            self._mapping(options["mapping"], info.headers)
            if options["mapping"]
            else imports.guess_mapping(info.headers)
        )
        statuses = imports.importable_statuses(flow)
        users = get_user_model().objects
        owner = self._user(users, options["owner"]) if options["owner"] else None
        return imports.Options(
            mapping=mapping,
            status_code=options["status"] or (statuses[0].code if statuses else ""),
            owner_id=owner.pk if owner else None,
            skip_duplicates=options["skip_duplicates"],
        )

    def _report(self, result: imports.ImportResult) -> None:
        self.stdout.write(
            f"Imported {result.created} cases"
            + (
                f" ({result.first_reference} to {result.last_reference})"
                if result.created
                else ""
            )
            + f"; {result.invalid} invalid rows, {result.duplicates} duplicates"
            f" ({result.skipped_duplicates} skipped), {result.total} rows read."
        )

    def _preview(self, source, info, run_options, flow) -> None:
        preview = imports.preview(source, info, run_options, flow=flow)
        self.stdout.write(
            f"Dry run: {preview.to_create} cases would be created; "
            f"{preview.invalid} invalid rows, {preview.duplicates} duplicates, "
            f"{preview.total} rows read; {preview.defaulted} would get the "
            "default next action."
        )
        for row in preview.invalid_rows[:20]:
            self.stdout.write(
                f"  line {row.line}: {imports.describe_errors(row, info)}"
            )
        for row in preview.duplicate_rows[:20]:
            like = ", ".join(f"{d.label} ({d.field})" for d in row.duplicate_of)
            self.stdout.write(f"  line {row.line} looks like {like}")

    def _write_errors(self, target: Path, source, info, run_options, flow) -> None:
        lines = imports.error_lines(source, info, run_options, flow=flow)
        with target.open("w", encoding="utf-8", newline="") as out:
            for line in lines:
                out.write(line)
        self.stdout.write(f"Invalid rows written to {target}")

    @staticmethod
    def _user(users, username: str):
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        return user

    @staticmethod
    def _mapping(text: str, headers: list[str]) -> dict[int, str]:
        by_name = {normalize.fold(name): index for index, name in enumerate(headers)}
        mapping: dict[int, str] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            column, sep, target = part.rpartition("=")
            column, target = column.strip(), target.strip()
            if not sep or target not in imports.FIELDS:
                raise CommandError(
                    f"{part!r}: expected COLUMN=FIELD with FIELD among "
                    f"{', '.join(imports.FIELDS)}"
                )
            number = http.parse_int(column, minimum=1, maximum=len(headers))
            if number is not None:
                index = number - 1
            elif normalize.fold(column) in by_name:
                index = by_name[normalize.fold(column)]
            else:
                raise CommandError(f"{column!r}: no such column in {headers}")
            mapping[index] = target
        problems = imports.mapping_problems(mapping)
        if problems:
            raise CommandError(" ".join(problems))
        return mapping
