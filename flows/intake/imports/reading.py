"""Reading a CSV file: its encoding, its separator, its header and rows.

Files come from Excel or LibreOffice in France as often as not: UTF-8 with
or without a BOM, UTF-16 ("texte Unicode") or Windows-1252; semicolons,
commas or tabs. Reading streams the file, so memory does not grow with its
size.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

from config import csv as safe_csv
from flows.intake.imports.parsing import one_line

# A callable opening the file as binary, used as a context manager (the
# file is read several times: encoding, preview, import).
Source = Callable[[], IO[bytes]]


class ImportFileError(ValueError):
    """The file cannot be read as a CSV (or is too big); nothing was written."""


class _RawReader(io.RawIOBase):
    """Any object with read(n) (a storage file, S3 included) as a raw stream."""

    def __init__(self, file: IO[bytes]):
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@contextmanager
def _text(source: Source, encoding: str) -> Iterator[io.TextIOWrapper]:
    with source() as binary:
        # newline="": the csv module handles line ends, inside quotes too.
        stream = io.TextIOWrapper(
            io.BufferedReader(_RawReader(binary)),
            encoding=encoding,
            errors="replace",
            newline="",
        )
        try:
            yield stream
        finally:
            stream.close()


def detect_encoding(source: Source) -> str:
    """utf-8-sig, utf-16 (BOM), utf-8, or cp1252 (Excel's "CSV (séparateur:
    point-virgule)" in France); read in chunks, never whole."""
    with source() as binary:
        head = binary.read(4)
        if head.startswith(b"PK\x03\x04"):
            raise ImportFileError(
                _(
                    "C'est un classeur Excel (.xlsx) : enregistrez-le au format "
                    "« CSV (séparateur : point-virgule) » puis recommencez."
                )
            )
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                if b"\x00" in chunk:
                    raise ImportFileError(
                        _("Ce fichier n'est pas un fichier texte CSV.")
                    )
                decoder.decode(chunk)
                chunk = binary.read(64 * 1024)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


@dataclass(frozen=True)
class FileInfo:
    encoding: str
    delimiter: str
    headers: list[str]


def sniff(source: Source) -> FileInfo:
    """Encoding, separator (from the header line) and column names."""
    encoding = detect_encoding(source)
    with _text(source, encoding) as stream:
        first = ""
        for line in stream:
            if line.strip():
                first = line
                break
    if not first:
        raise ImportFileError(_("Le fichier est vide."))
    counts = {sep: _count_outside_quotes(first, sep) for sep in (";", ",", "\t")}
    delimiter = max(counts, key=lambda sep: (counts[sep], sep == ";"))
    if counts[delimiter] == 0:
        delimiter = ","
    with _text(source, encoding) as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        try:
            raw = next(row for row in reader if any(cell.strip() for cell in row))
        except StopIteration:
            raise ImportFileError(_("Le fichier est vide.")) from None
        except csv.Error as error:
            raise ImportFileError(
                _("CSV illisible : %(error)s") % {"error": error}
            ) from error
    headers: list[str] = []
    for index, cell in enumerate(raw, start=1):
        name = one_line(cell) or _("Colonne %(n)s") % {"n": index}
        base, n = name, 2
        while name in headers:
            name, n = f"{base} ({n})", n + 1
        headers.append(name)
    return FileInfo(encoding=encoding, delimiter=delimiter, headers=headers)


def rows(source: Source, info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-empty data row, streamed.

    A cell "'=…" (an apostrophe, then a formula character) is read as "=…":
    the errors file neutralised it, and a fixed errors file comes back.
    """
    limit = settings.IMPORT_MAX_ROWS
    with _text(source, info.encoding) as stream:
        reader = csv.reader(stream, delimiter=info.delimiter)
        header_seen, count = False, 0
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                count += 1
                if count > limit:
                    raise ImportFileError(
                        _(
                            "Le fichier compte plus de %(limit)s lignes : "
                            "découpez-le en plusieurs fichiers."
                        )
                        % {"limit": limit}
                    )
                # An errors file fixed and re-imported: drop the apostrophe
                # its export put before a formula character.
                yield reader.line_num, [safe_csv.restore(cell) for cell in cells]
        except csv.Error as error:
            raise ImportFileError(
                _("CSV illisible ligne %(line)s : %(error)s")
                % {"line": reader.line_num, "error": error}
            ) from error
