"""The one CSV writer of every export: every field quoted, no formula.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a
formula, and a tab or a carriage return in front does not stop it (CSV
injection, OWASP): `=HYPERLINK(...)` planted in a company name or a user
agent becomes a link, or worse, in the manager's Excel. So every cell that
starts with one of them gets a leading apostrophe, whatever its column; the
spreadsheet then shows text. A plain number keeps its sign (see
`PLAIN_NUMBER`): a negative amount stays a number Excel adds up, and a phone
number "+33 6 12 34 56 78" stays as typed.

Every field is quoted (`QUOTE_ALL`): a quote opens each field, so a reader
using the file's separator keeps a value whole. A reader using the other
one (French Excel splits on ";", most others on ",") is not saved by the
quotes: past the first field it reads on, unquoted, and splits a value at
its ";" or at a line break. So the piece of a value that follows a
separator (",", ";", a tab, a line end) and starts with a formula
character gets the apostrophe too: "ACME;=1+1" is written "ACME;'=1+1".
A quoted number is still a number for Excel and LibreOffice.

The lines are produced one row at a time (`lines`), for a
StreamingHttpResponse or a file; the Excel flavour starts with a UTF-8 BOM
(Excel otherwise reads Windows-1252) and uses semicolons.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

BOM = "\ufeff"
EXCEL_DELIMITER = ";"  # Excel in France: the comma is the decimal separator
PLAIN_DELIMITER = ","
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A number, and nothing a formula could be built from: an optional sign, an
# ASCII digit, then digits, spaces (also the no-break ones French uses to
# group thousands), dots, commas and parentheses ("+33 (0)1 23 45 67 89",
# "-1 234,50"). No letter, no operator, no reference: at worst the
# spreadsheet computes a number.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 .,()\u00a0\u202f]*")
# What a reader splitting on the wrong separator takes for a cell of its
# own: after a separator, up to the next one; spaces and quotes before the
# formula character do not stop it (an opening quote starts a quoted field).
_PIECE = re.compile(r'(?<=[,;\t\r\n])[ "]*[=+\-@][^,;\t\r\n]*')
_NEUTRALIZED_PIECE = re.compile(r"""(?<=[,;\t\r\n])'(?=[ "]*[=+\-@])""")


def _neutralize_piece(match: re.Match[str]) -> str:
    piece = match.group()
    return piece if PLAIN_NUMBER.fullmatch(piece.lstrip(' "')) else "'" + piece


def neutralize(value: object) -> str:
    """The cell's text, an apostrophe before whatever could run as a formula."""
    text = _PIECE.sub(_neutralize_piece, "" if value is None else str(value))
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def restore(value: str) -> str:
    """Undo `neutralize` on a cell read back (a fixed errors file re-imported)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        value = value[1:]
    return _NEUTRALIZED_PIECE.sub("", value)


def delimiter_for(*, excel: bool) -> str:
    return EXCEL_DELIMITER if excel else PLAIN_DELIMITER


class Echo:
    """A file that hands back what is written to it: `csv.writer(Echo())`
    returns each line instead of storing it (Django's streaming CSV recipe)."""

    def write(self, value: str) -> str:
        return value


def lines(
    header: Iterable[object],
    rows: Iterable[Iterable[object]],
    *,
    delimiter: str = PLAIN_DELIMITER,
    bom: bool = False,
) -> Iterator[str]:
    """The CSV text, the header first, one line (CRLF) per row.

    Every cell, the header's too (an imported file's headers are anyone's
    text), goes through `neutralize` and is quoted.
    """
    writer = csv.writer(
        Echo(), delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n"
    )
    yield (BOM if bom else "") + writer.writerow([neutralize(c) for c in header])
    for row in rows:
        yield writer.writerow([neutralize(cell) for cell in row])
