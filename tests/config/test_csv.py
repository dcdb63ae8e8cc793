"""Every CSV the app writes goes through config.csv: no cell runs as a formula.

Each export is read back with both separators, as French Excel (";") and
most other spreadsheets (",") would split it: no cell may start with a
formula character, but for a plain number (a negative amount, a phone).
"""

import csv
import re
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from config import csv as safe_csv
from flows.intake.imports import reading
from flows.models import Case, ImportRun
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

PLANTED = [
    "ACME;=1+1;",
    "ACME,=1+1,",
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    '=HYPERLINK("http://evil.example","x")',
    "-1+1",
    "+1+1",
    "\t=1+1",
    "\r=1+1",
    'Guillemets;"=1+1',
    "Deux lignes\n=1+1",
]
USER_AGENT = '=HYPERLINK("http://evil.example","x")'
# What a reader may take for a number: a sign, then digits and separators.
NUMBER = re.compile(r"[+-]?[0-9][0-9 .,()\u00a0\u202f]*")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cells(text: str):
    """Every cell of `text` read with either separator."""
    text = text.removeprefix("\ufeff")
    for delimiter in (",", ";"):
        for row in csv.reader(StringIO(text, newline=""), delimiter=delimiter):
            yield from row


def _assert_no_formula(text: str) -> None:
    """No cell starts with a formula character, once the spaces, tabs and
    line ends a spreadsheet may skip are skipped, unless it is a number.

    (Read with the other separator, a quote that closed a field can open
    one that holds a mere line end: a cell "\\r\\n", no formula.)
    """
    for cell in _cells(text):
        start = cell.lstrip(" \t\r\n")
        assert not start.startswith(FORMULA_START) or NUMBER.fullmatch(start), cell


def _body(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


# --- The writer --------------------------------------------------------------


@pytest.mark.parametrize("value", PLANTED)
def test_neutralize_prefixes_every_formula_and_restore_undoes_it(value):
    neutral = safe_csv.neutralize(value)
    assert neutral.startswith("'") or not value.startswith(FORMULA_START)
    _assert_no_formula("".join(safe_csv.lines([value], [[value, value]])))
    _assert_no_formula("".join(safe_csv.lines([], [["a", value]], delimiter=";")))
    assert safe_csv.restore(neutral) == value


@pytest.mark.parametrize(
    "value",
    ["-1 234,50", "-1234.50", "-12,5", "+33 6 12 34 56 78", "+33 (0)1 23 45 67 89"],
)
def test_numbers_keep_their_sign(value):
    assert safe_csv.neutralize(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-x", "'-x"),
        ("-1+1", "'-1+1"),
        ("+1+1", "'+1+1"),
        ("-", "'-"),
        ("-(1)", "'-(1)"),  # a number starts with a digit
        ("-١٢", "'-١٢"),  # ASCII digits only
        ("\t12", "'\t12"),  # a tab or CR first: always neutralised
        ("ACME;=1+1;", "ACME;'=1+1;"),  # a cell for a reader splitting on ";"
        ("1,-2", "1,-2"),  # a number after a comma stays one
        ("Tél., +33 6 12 34 56 78", "Tél., +33 6 12 34 56 78"),
        ("Appeler, -x", "Appeler,' -x"),  # a space in front does not stop it
        ("Normal", "Normal"),
        (None, ""),
        (12, "12"),
    ],
)
def test_neutralize_decides_by_the_value(value, expected):
    assert safe_csv.neutralize(value) == expected


def test_lines_quote_every_field_and_start_with_the_bom_when_asked():
    text = "".join(
        safe_csv.lines(["a", "b"], [[1, "x;y"], ["-2", ""]], delimiter=";", bom=True)
    )
    assert text == '\ufeff"a";"b"\r\n"1";"x;y"\r\n"-2";""\r\n'
    assert "".join(safe_csv.lines(["a"], [])) == '"a"\r\n'
    assert safe_csv.delimiter_for(excel=True) == ";"
    assert safe_csv.delimiter_for(excel=False) == ","


def test_an_errors_file_read_back_loses_the_apostrophes():
    text = "".join(
        safe_csv.lines(["Société", "E-mail"], [[v, "x@"] for v in PLANTED])
    ).encode("utf-8")

    def source():
        return BytesIO(text)

    info = reading.sniff(source)
    read = [cells[0] for _line, cells in reading.rows(source, info)]
    assert read == PLANTED


# --- Each export, read back with both separators ------------------------------


@pytest.fixture
def planted_cases(default_flow, manager):
    cases = [
        CaseFactory(
            flow=default_flow,
            owner=manager,
            company=value,
            title=value,
            contact_name=value,
            next_action=value,
            amount=Decimal("12.50"),
        )
        for value in PLANTED
    ]
    # The form refuses a negative amount; the export must not rely on it.
    negative = CaseFactory(flow=default_flow, owner=manager)
    Case.objects.filter(pk=negative.pk).update(amount=Decimal("-1234.50"))
    return cases


@pytest.mark.parametrize(("excel", "delimiter"), [(True, ";"), (False, ",")])
def test_board_export_runs_no_formula(client, manager, planted_cases, excel, delimiter):
    client.force_login(manager)
    query = {"format": "excel"} if excel else {}
    text = _body(client.get(reverse("flows:board_export"), query))
    _assert_no_formula(text)
    rows = list(csv.reader(StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))
    companies = {row[2] for row in rows[1:]}
    assert "ACME;'=1+1;" in companies and "'@SUM(1)" in companies
    # A negative amount stays a number in its column.
    amounts = {row[8] for row in rows[1:]}
    assert ("-1234,50" if excel else "-1234.50") in amounts


def test_audit_export_runs_no_formula(client, manager, default_flow):
    # An anonymous visitor picks the user agent and the name typed at login.
    client.post(
        reverse("login"),
        {"username": "@SUM(1)", "password": "wrong"},
        headers={"User-Agent": USER_AGENT},
    )
    assert AuditEvent.objects.filter(user_agent=USER_AGENT).exists()
    CaseFactory(flow=default_flow, owner=manager, company="ACME;=1+1;")
    client.force_login(manager)
    text = _body(client.get(reverse("audit:export")))
    _assert_no_formula(text)
    assert "'" + USER_AGENT.replace('"', '""') in text


def test_import_errors_file_runs_no_formula(client, manager, default_flow):
    client.force_login(manager)
    buffer = StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Société", "Nom du contact", "E-mail", "=Notes"])
    for value in PLANTED:
        writer.writerow([value, "@SUM(1)", "pas-un-email", value])
    upload = SimpleUploadedFile(
        "clients.csv", buffer.getvalue().encode("utf-8"), content_type="text/csv"
    )
    client.post(reverse("flows:import_upload"), {"file": upload})
    run = ImportRun.objects.get()
    assert client.get(reverse("flows:import_preview", args=[run.token])).status_code
    text = _body(client.get(reverse("flows:import_errors", args=[run.token])))
    _assert_no_formula(text)
    rows = list(csv.reader(StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][3] == "'=Notes"
    assert ["'=cmd|' /C calc'!A0", "'@SUM(1)"] in [row[:2] for row in rows]
