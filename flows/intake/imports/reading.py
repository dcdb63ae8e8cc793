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
import re
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


# A character a UTF-8 decoder produced from a valid multibyte sequence
# (anything past ASCII but the replacement character).
_MULTIBYTE = re.compile("[^\x00-\x7f\ufffd]")
# Past this many columns a file is no client list (and its mapping form
# would exceed Django's DATA_UPLOAD_MAX_NUMBER_FIELDS: a bare 400).
MAX_COLUMNS = 200
# What a row holds where its bytes were not UTF-8 (see detect_encoding).
UNREADABLE = "\ufffd"


def detect_encoding(source: Source) -> str:
    """utf-8-sig, utf-16 (BOM), utf-8, or cp1252 (Excel's "CSV (séparateur:
    point-virgule)" in France); read in chunks, never whole.

    UTF-8 is tried first: a file holding valid UTF-8 multibyte sequences
    (an "é" written as two bytes) is UTF-8, even when some lines are not;
    those lines decode with U+FFFD in place of each bad byte, and
    validation reports each such row with its line number rather than
    reading the whole file as Windows-1252 (which turned every "é" of the
    UTF-8 lines, "Société" in the header included, into "Ã©"). Only a
    file with bytes that are not UTF-8 and no multibyte sequence at all is
    read as cp1252: that is a whole Windows-1252 export.
    """
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
        # The incremental decoder keeps a sequence cut between two chunks.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        chunk, invalid, multibyte = head, False, False
        while chunk:
            if b"\x00" in chunk:
                raise ImportFileError(_("Ce fichier n'est pas un fichier texte CSV."))
            text = decoder.decode(chunk)
            invalid = invalid or UNREADABLE in text
            multibyte = multibyte or _MULTIBYTE.search(text) is not None
            chunk = binary.read(64 * 1024)
        invalid = invalid or UNREADABLE in decoder.decode(b"", final=True)
    return "cp1252" if invalid and not multibyte else "utf-8"


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
    _check_header(raw)
    headers: list[str] = []
    for index, cell in enumerate(raw, start=1):
        name = one_line(cell) or _("Colonne %(n)s") % {"n": index}
        base, n = name, 2
        while name in headers:
            name, n = f"{base} ({n})", n + 1
        headers.append(name)
    return FileInfo(encoding=encoding, delimiter=delimiter, headers=headers)


def _check_header(raw: list[str]) -> None:
    """Raise ImportFileError for a header too wide or not readable."""
    if len(raw) > MAX_COLUMNS:
        raise ImportFileError(
            _(
                "Le fichier compte %(count)s colonnes : %(limit)s au plus. "
                "Gardez les colonnes utiles (société, contact, e-mail…) "
                "puis recommencez."
            )
            % {"count": len(raw), "limit": MAX_COLUMNS}
        )
    if any(UNREADABLE in cell for cell in raw):
        raise ImportFileError(
            _(
                "La ligne des titres de colonnes contient des caractères "
                "illisibles : enregistrez le fichier en UTF-8 puis recommencez."
            )
        )


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
