"""CSV import: reading French spreadsheets, preview, all-or-nothing import."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from config import clock
from flows.engine import services
from flows.intake import imports
from flows.models import (
    Case,
    ImportRun,
    Sequence,
    Status,
    StatusChange,
    Webhook,
    WebhookDelivery,
)
from tests.conftest import make_user
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

FRENCH_HEADERS = [
    "Société",
    "Nom du contact",
    "E-mail",
    "Téléphone",
    "Montant (€ HT)",
    "Responsable",
    "Prochaine action",
    "Échéance",
]


def csv_bytes(
    rows: list[list[str]],
    *,
    headers=FRENCH_HEADERS,
    delimiter=";",
    encoding="cp1252",
    bom=False,
) -> bytes:
    buffer = StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def source_of(data: bytes) -> imports.Source:
    return lambda: io.BytesIO(data)


def options_for(info, flow, **overrides) -> imports.Options:
    values = {
        "mapping": imports.guess_mapping(info.headers),
        "status_code": flow.initial_status().code,
        "owner_id": None,
        "skip_duplicates": True,
    }
    values.update(overrides)
    return imports.Options(**values)


def run(data: bytes, flow, user, **overrides) -> imports.ImportResult:
    source = source_of(data)
    info = imports.sniff(source)
    options = options_for(info, flow, **overrides)
    return imports.run_import(
        source, info, options, flow=flow, user=user, file_name="test.csv"
    )


def preview(data: bytes, flow, **overrides) -> imports.Preview:
    source = source_of(data)
    info = imports.sniff(source)
    return imports.preview(
        source, info, options_for(info, flow, **overrides), flow=flow
    )


# --- Reading --------------------------------------------------------------------


def test_french_excel_file_with_semicolons_and_windows_1252_accents(
    default_flow, manager, member
):
    """Excel's "CSV (séparateur : point-virgule)": cp1252, decimal commas, € and spaces."""
    data = csv_bytes(
        [
            [
                "Café Noël",
                "Élodie Müller",
                "ELODIE@Example.FR",
                "06 12 34 56 78",
                "12 500,50 €",
                "louis",
                "Envoyer la plaquette",
                "31/01/2027",
            ],
            ["Brasserie Çà et Là", "Zoé", "", "", "", "", "", ""],
        ]
    )
    source = source_of(data)
    info = imports.sniff(source)
    assert (info.encoding, info.delimiter) == ("cp1252", ";")
    assert info.headers == FRENCH_HEADERS
    assert imports.guess_mapping(info.headers) == {
        0: "company",
        1: "contact_name",
        2: "email",
        3: "phone",
        4: "amount",
        5: "owner",
        6: "next_action",
        7: "next_action_due",
    }

    result = run(data, default_flow, manager)

    assert (result.created, result.invalid) == (2, 0)
    first, second = Case.objects.order_by("reference")
    assert first.company == "Café Noël" and first.title == "Café Noël"
    assert first.contact_name == "Élodie Müller"
    assert first.email == "elodie@example.fr"
    assert first.phone == "+33 6 12 34 56 78"
    assert first.amount == Decimal("12500.50")
    assert first.owner == member
    assert (first.next_action, first.next_action_due) == (
        "Envoyer la plaquette",
        date(2027, 1, 31),
    )
    assert first.status == "nouveau" and first.source == "import"
    assert second.company == "Brasserie Çà et Là" and second.owner is None


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [("utf-8", True, ";"), ("utf-8", False, ","), ("utf-16", False, "\t")],
)
def test_utf8_with_or_without_bom_and_other_separators(
    default_flow, manager, encoding, bom, delimiter
):
    data = csv_bytes(
        [["Société Générale", "Anaïs", "a@b.fr", "", "1 000", "", "", ""]],
        encoding=encoding,
        bom=bom,
        delimiter=delimiter,
    )
    info = imports.sniff(source_of(data))
    assert info.delimiter == delimiter
    assert info.headers[0] == "Société"
    result = run(data, default_flow, manager)
    assert result.created == 1
    case = Case.objects.get()
    assert (case.company, case.contact_name, case.amount) == (
        "Société Générale",
        "Anaïs",
        Decimal("1000.00"),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 500,50 €", "12500.50"),
        ("12\u202f500,5", "12500.50"),
        ("1.234.567,89", "1234567.89"),
        ("1,234.50", "1234.50"),
        ("1 234,567", "1234.57"),
        ("EUR 300", "300.00"),
        ("42", "42.00"),
        ("3.5", "3.50"),
    ],
)
def test_parse_amount_reads_french_and_english_numbers(raw, expected):
    assert imports.parse_amount(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["abc", "12,5,3x", "", "€", "1e5"])
def test_parse_amount_refuses_what_is_not_a_number(raw):
    with pytest.raises(ValueError):
        imports.parse_amount(raw)


@pytest.mark.parametrize(
    "raw", ["31/01/2027", "31/01/27", "31-01-2027", "31.01.2027", "2027-01-31"]
)
def test_parse_date_reads_french_and_iso_dates(raw):
    assert imports.parse_date(raw) == date(2027, 1, 31)
    assert imports.parse_date(raw + " 00:00:00") == date(2027, 1, 31)


def test_guess_mapping_reads_english_headers_and_first_names():
    headers = [
        "Company",
        "First name",
        "Last name",
        "Email",
        "Phone",
        "Amount",
        "Owner",
    ]
    assert imports.guess_mapping(headers) == {
        0: "company",
        1: "first_name",
        2: "contact_name",
        3: "email",
        4: "phone",
        5: "amount",
        6: "owner",
    }
    # Other French spellings; an unknown column stays unmapped; each field once.
    headers = ["Raison sociale", "Courriel", "Tél.", "Notes", "Mail"]
    assert imports.guess_mapping(headers) == {0: "company", 1: "email", 2: "phone"}


def test_an_excel_workbook_is_refused_with_a_helpful_message():
    with pytest.raises(imports.ImportFileError, match="CSV"):
        imports.sniff(source_of(b"PK\x03\x04" + b"\x00" * 100))


def test_owner_is_matched_by_username_full_name_or_email(
    default_flow, manager, member, other_member
):
    member.last_name = "Dupré"
    member.save()
    data = csv_bytes(
        [
            ["A", "", "", "", "", "LOUIS", "", ""],
            ["B", "", "", "", "", "louis dupre", "", ""],
            ["C", "", "", "", "", "sarah@example.test", "", ""],
        ]
    )
    run(data, default_flow, manager, skip_duplicates=False)
    owners = dict(Case.objects.values_list("company", "owner__username"))
    assert owners == {"A": "louis", "B": "louis", "C": "sarah"}


# --- Bad rows ------------------------------------------------------------------------


BAD_ROWS = [
    ["Bonne SARL", "Ana", "ana@bonne.fr", "", "1000", "", "", ""],
    ["Mauvais e-mail", "", "pas-un-email", "", "", "", "", ""],
    ["Montant faux", "", "", "", "douze", "", "", ""],
    ["Inconnu SA", "", "", "", "", "personne", "", ""],
    ["Date fausse", "", "", "", "", "", "Rappeler", "32/13/2027"],
    ["Deux erreurs", "", "x@", "abc", "", "", "", ""],
    ["", "", "", "", "", "", "", ""],
    ["Autre bonne", "", "", "01 23 45 67 89", "", "", "", ""],
]


def test_preview_reports_every_bad_cell_and_writes_nothing(default_flow, manager):
    result = preview(csv_bytes(BAD_ROWS), default_flow)

    assert (result.total, result.invalid, result.to_create) == (7, 5, 2)
    reasons = {
        row.line: {FRENCH_HEADERS[i]: msg for i, msg in row.errors.items()}
        for row in result.invalid_rows
    }
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert "E-mail invalide" in reasons[3]["E-mail"]
    assert "n'est pas un nombre" in reasons[4]["Montant (€ HT)"]
    assert "Responsable inconnu" in reasons[5]["Responsable"]
    assert "Date invalide" in reasons[6]["Échéance"]
    assert set(reasons[7]) == {"E-mail", "Téléphone"}
    assert not Case.objects.exists()
    assert not AuditEvent.objects.filter(action="import").exists()


def test_import_writes_only_the_valid_rows_and_the_errors_download(
    default_flow, manager
):
    data = csv_bytes(BAD_ROWS)
    result = run(data, default_flow, manager)
    assert (result.created, result.invalid) == (2, 5)
    assert sorted(Case.objects.values_list("company", flat=True)) == [
        "Autre bonne",
        "Bonne SARL",
    ]

    source = source_of(data)
    info = imports.sniff(source)
    text = "".join(
        imports.error_lines(
            source, info, options_for(info, default_flow), flow=default_flow
        )
    )
    assert text.startswith("\ufeff")
    rows = list(csv.reader(StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [*FRENCH_HEADERS, "Erreurs"]
    assert [row[0] for row in rows[1:]] == [
        "Mauvais e-mail",
        "Montant faux",
        "Inconnu SA",
        "Date fausse",
        "Deux erreurs",
    ]
    assert rows[2][-1].startswith("Montant (€ HT) : Montant invalide")
    # The downloaded file, once fixed, imports like any other.
    assert imports.sniff(source_of(text.encode("utf-8"))).delimiter == ";"


def test_a_failure_mid_import_leaves_nothing_half_written(
    default_flow, manager, settings
):
    """All or nothing: a file too long, found after two batches, rolls back."""
    CaseFactory(flow=default_flow, owner=manager)
    counter_before = list(Sequence.objects.values_list("key", "value"))
    events_before = AuditEvent.objects.count()
    settings.IMPORT_BATCH_SIZE = 2
    settings.IMPORT_MAX_ROWS = 5
    data = csv_bytes([[f"Société {n}", "", "", "", "", "", "", ""] for n in range(6)])

    with pytest.raises(imports.ImportFileError, match="plus de 5 lignes"):
        run(data, default_flow, manager)

    assert Case.objects.count() == 1
    assert Case.history.filter(history_change_reason="import").count() == 0
    assert StatusChange.objects.count() == 1
    assert list(Sequence.objects.values_list("key", "value")) == counter_before
    assert AuditEvent.objects.count() == events_before


def test_an_error_in_a_later_batch_rolls_back_the_earlier_ones(
    default_flow, manager, settings
):
    settings.IMPORT_BATCH_SIZE = 2
    data = csv_bytes([[f"Société {n}", "", "", "", "", "", "", ""] for n in range(5)])
    real = services.create_cases_bulk
    calls = []

    def failing(cases, **kwargs):
        calls.append(len(cases))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(cases, **kwargs)

    with (
        mock.patch.object(services, "create_cases_bulk", failing),
        pytest.raises(RuntimeError),
    ):
        run(data, default_flow, manager)
    assert calls == [2, 2]
    assert not Case.objects.exists()


# --- Duplicates ----------------------------------------------------------------------


def test_duplicates_of_existing_cases_and_of_earlier_rows(default_flow, manager):
    existing = CaseFactory(
        flow=default_flow,
        owner=manager,
        company="Boulangerie Martin",
        email="claire@martin.fr",
        phone="06 11 22 33 44",
    )
    rows = [
        ["Autre", "", "CLAIRE@martin.fr", "", "", "", "", ""],  # same e-mail
        ["Encore", "", "", "+33 6 11 22 33 44", "", "", "", ""],  # same phone
        ["boulangerie MARTIN", "", "", "", "", "", "", ""],  # same company
        ["Nouvelle", "", "n@n.fr", "", "", "", "", ""],
        ["Nouvelle bis", "", "n@n.fr", "", "", "", "", ""],  # like line 5
    ]
    result = preview(csv_bytes(rows), default_flow, skip_duplicates=True)

    assert (result.total, result.duplicates, result.to_create) == (5, 4, 1)
    found = {
        row.line: [(d.label, d.field, d.is_case) for d in row.duplicate_of]
        for row in result.duplicate_rows
    }
    ref = existing.reference
    assert found == {
        2: [(ref, "email", True)],
        3: [(ref, "phone", True)],
        4: [(ref, "company", True)],
        6: [("ligne 5", "email", False)],
    }
    # Without "skip duplicates" they are only flagged.
    result = preview(csv_bytes(rows), default_flow, skip_duplicates=False)
    assert (result.duplicates, result.to_create) == (4, 5)


def test_reimporting_the_same_file_creates_nothing_new(default_flow, manager):
    rows = [
        ["Alpha", "Ana", "ana@alpha.fr", "", "", "", "", ""],
        ["Beta", "Bob", "", "06 00 00 00 01", "", "", "", ""],
        ["Gamma", "", "", "", "", "", "", ""],
    ]
    data = csv_bytes(rows)
    first = run(data, default_flow, manager, skip_duplicates=True)
    second = run(data, default_flow, manager, skip_duplicates=True)

    assert (first.created, second.created) == (3, 0)
    assert second.skipped_duplicates == 3
    assert Case.objects.count() == 3
    assert AuditEvent.objects.filter(action="import").count() == 2


# --- What an import writes -------------------------------------------------------------


def test_import_writes_history_entries_references_and_one_audit_event(
    default_flow, manager
):
    CaseFactory(flow=default_flow, owner=manager)  # takes the first reference
    data = csv_bytes([[f"Société {n}", "", "", "", "", "", "", ""] for n in range(3)])
    result = run(data, default_flow, manager, owner_id=manager.pk)

    year = clock.today().year
    imported = list(Case.objects.filter(source="import").order_by("reference"))
    assert [case.reference for case in imported] == [
        f"{year}-0002",
        f"{year}-0003",
        f"{year}-0004",
    ]
    assert (result.first_reference, result.last_reference) == (
        f"{year}-0002",
        f"{year}-0004",
    )
    for case in imported:
        record = case.history.get()
        assert (record.history_type, record.history_change_reason) == ("+", "import")
        assert record.history_user == manager
        assert record.status == "nouveau"
        change = StatusChange.objects.get(case=case)
        assert (change.from_status, change.to_status.code, change.by) == (
            None,
            "nouveau",
            manager,
        )
        assert case.owner == manager and case.created_by == manager
    event = AuditEvent.objects.get(action="import")
    assert event.actor == manager
    assert event.data["created"] == 3 and event.data["file"] == "test.csv"
    assert event.data["mapping"] == {"Société": "company"} | dict(
        zip(
            FRENCH_HEADERS,
            [
                "company",
                "contact_name",
                "email",
                "phone",
                "amount",
                "owner",
                "next_action",
                "next_action_due",
            ],
            strict=True,
        )
    )
    # No per-case creation events: one event for the whole file.
    assert not AuditEvent.objects.filter(action="case_created", case__in=imported)


def test_rows_without_next_action_get_the_default_one(default_flow, manager):
    data = csv_bytes(
        [
            ["Sans suite", "", "", "", "", "", "", ""],
            ["Avec suite", "", "", "", "", "", "Visite", "15/03/2027"],
            ["Date seule", "", "", "", "", "", "", "15/03/2027"],
        ]
    )
    result = preview(data, default_flow)
    assert result.defaulted == 2
    run(data, default_flow, manager)
    due = imports.working_days_after(clock.today(), 2)
    cases = {c.company: (c.next_action, c.next_action_due) for c in Case.objects.all()}
    assert cases == {
        "Sans suite": ("Reprendre contact", due),
        "Avec suite": ("Visite", date(2027, 3, 15)),
        "Date seule": ("Reprendre contact", date(2027, 3, 15)),
    }


def test_working_days_skip_the_weekend():
    friday = date(2026, 3, 6)
    assert imports.working_days_after(friday, 1) == date(2026, 3, 9)
    assert imports.working_days_after(friday, 2) == date(2026, 3, 10)
    assert imports.working_days_after(date(2026, 3, 2), 2) == date(2026, 3, 4)


def test_import_into_a_later_status_records_the_entry_directly(default_flow, manager):
    reachable = [s.code for s in imports.importable_statuses(default_flow)]
    assert reachable[0] == "nouveau" and "qualifie" in reachable
    run(
        csv_bytes([["Déjà qualifié", "", "", "", "", "", "", ""]]),
        default_flow,
        manager,
        status_code="qualifie",
    )
    case = Case.objects.get()
    assert case.status == "qualifie" and case.closed_at is None
    change = StatusChange.objects.get(case=case)
    assert (change.from_status, change.to_status.code) == (None, "qualifie")


def test_a_status_the_rules_do_not_reach_is_refused(default_flow, manager):
    orphan = Status.objects.create(
        flow=default_flow, position=8, code="archive", label="Archivé"
    )
    assert orphan not in imports.importable_statuses(default_flow)
    with pytest.raises(Exception, match="atteignable"):
        run(
            csv_bytes([["X", "", "", "", "", "", "", ""]]),
            default_flow,
            manager,
            status_code="archive",
        )
    assert not Case.objects.exists()


def test_imported_cases_queue_case_created_webhooks(default_flow, manager, settings):
    settings.WEBHOOK_DISPATCH = "cron"
    with mock.patch(
        "socket.getaddrinfo", return_value=[(2, 1, 6, "", ("93.184.216.34", 443))]
    ):
        hook = Webhook(
            name="CRM", url="https://crm.example/hook", events=["case.created"]
        )
        hook.full_clean()
        hook.save()
    run(
        csv_bytes([[f"S{n}", "", "", "", "", "", "", ""] for n in range(3)]),
        default_flow,
        manager,
    )
    assert (
        WebhookDelivery.objects.filter(webhook=hook, event="case.created").count() == 3
    )


def test_import_queries_grow_by_batches_not_by_rows(default_flow, manager, settings):
    """1,000 then 2,000 rows in batches of 500: statements per batch, not per row."""
    settings.IMPORT_BATCH_SIZE = 500

    def queries_for(n_rows: int, offset: int) -> int:
        data = csv_bytes(
            [
                [f"Société {n}", f"Contact {n}", f"c{n}@ex.fr", "", "100", "", "", ""]
                for n in range(offset, offset + n_rows)
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            result = run(data, default_flow, manager)
        assert result.created == n_rows
        return len(queries)

    small, large = queries_for(1000, 0), queries_for(2000, 1000)
    # Per batch of 500: the counter (3 statements), then the cases, their
    # history and their entry rows: one INSERT each on PostgreSQL; SQLite
    # splits them by its 999-variable limit (Django's max_query_params),
    # about 35 statements per 500 rows. Either way far from one per row.
    per_batch = (large - small) / 2
    assert per_batch <= (40 if connection.vendor == "sqlite" else 8), (small, large)
    assert Case.objects.count() == 3000


# --- The pages ----------------------------------------------------------------------------


def _upload(client, data: bytes, name="clients.csv"):
    return client.post(
        reverse("flows:import_upload"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def test_members_may_not_import(client, member):
    client.force_login(member)
    assert client.get(reverse("flows:import_upload")).status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied").exists()


def test_upload_preview_then_import(client, default_flow, manager):
    client.force_login(manager)
    data = csv_bytes(BAD_ROWS)
    response = _upload(client, data)
    run_ = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("flows:import_preview", args=[run_.token])
    assert run_.file_name and run_.encoding == "cp1252"

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="company" selected' in html  # the guessed mapping
    assert "E-mail invalide" in html and "Responsable inconnu" in html
    assert "Importer 2 dossiers" in html
    assert not Case.objects.exists()

    fingerprint = page.context["fingerprint"]
    form = {
        **{f"col_{i}": t for i, t in imports.guess_mapping(FRENCH_HEADERS).items()},
        "status": "nouveau",
        "owner": str(manager.pk),
        "skip_duplicates": "on",
        "previewed": fingerprint,
        "action": "import",
    }
    url = reverse("flows:import_preview", args=[run_.token])
    done = client.post(url, form)
    assert done["Location"] == reverse("flows:import_done", args=[run_.token])
    assert Case.objects.count() == 2
    # A second click of the same button imports nothing more.
    again = client.post(url, form)
    assert again["Location"] == reverse("flows:import_done", args=[run_.token])
    assert Case.objects.count() == 2
    html = client.get(done["Location"]).content.decode()
    assert "Télécharger les lignes invalides" in html

    errors = client.get(reverse("flows:import_errors", args=[run_.token]))
    text = b"".join(errors.streaming_content).decode()
    assert errors["Content-Type"].startswith("text/csv")
    assert text.count("\r\n") == 6  # the header and the five invalid rows


def test_import_refuses_options_changed_since_the_preview(
    client, default_flow, manager
):
    client.force_login(manager)
    _upload(client, csv_bytes([["A", "", "", "", "", "", "", ""]]))
    run_ = ImportRun.objects.get()
    url = reverse("flows:import_preview", args=[run_.token])
    page = client.get(url)
    response = client.post(
        url,
        {
            "col_0": "company",
            "status": "qualifie",  # changed since the preview
            "owner": "",
            "previewed": page.context["fingerprint"],
            "action": "import",
        },
    )
    assert response.status_code == 200
    assert "Les réglages ont changé" in response.content.decode()
    assert not Case.objects.exists()


def test_preview_refreshes_as_a_fragment_with_htmx(client, default_flow, manager):
    client.force_login(manager)
    _upload(client, csv_bytes([["A", "", "", "", "", "", "", ""]]))
    run_ = ImportRun.objects.get()
    response = client.post(
        reverse("flows:import_preview", args=[run_.token]),
        {"col_0": "company", "status": "nouveau", "owner": ""},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="import-preview"')
    assert "Importer 1 dossier" in html


def test_a_run_belongs_to_the_manager_who_uploaded_it(
    client, default_flow, manager, django_user_model
):
    client.force_login(manager)
    _upload(client, csv_bytes([["A", "", "", "", "", "", "", ""]]))
    token = ImportRun.objects.get().token
    other = make_user(django_user_model, "marc", "manager")
    client.force_login(other)
    assert client.get(reverse("flows:import_preview", args=[token])).status_code == 404
    assert client.get(reverse("flows:import_errors", args=[token])).status_code == 404


def test_upload_refuses_a_workbook_and_a_file_too_big(
    client, default_flow, manager, settings
):
    client.force_login(manager)
    response = _upload(client, b"PK\x03\x04" + b"\x00" * 50, name="clients.xlsx")
    assert "format « CSV" in response.content.decode()
    settings.IMPORT_MAX_BYTES = 10
    response = _upload(client, csv_bytes([["A"] * 8]))
    assert "trop volumineux" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_old_uploaded_files_are_purged(default_flow, manager):
    upload = SimpleUploadedFile("a.csv", csv_bytes([["A"] * 8]))
    old = imports.save_upload(upload, user=manager)
    ImportRun.objects.filter(pk=old.pk).update(
        created_at=clock.now() - timedelta(days=2)
    )
    assert default_storage.exists(old.file_name)
    assert imports.purge_old_files() == 1
    assert not default_storage.exists(old.file_name)
    assert ImportRun.objects.get(pk=old.pk).file_name == ""


# --- The command ------------------------------------------------------------------------


def test_import_cases_command(tmp_path, default_flow, manager):
    path = tmp_path / "clients.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["Alpha", "Ana", "ana@alpha.fr", "", "1 200,00", "", "", ""],
                ["Beta", "", "faux", "", "", "", "", ""],
            ]
        )
    )
    out = StringIO()
    call_command("import_cases", str(path), "--dry-run", stdout=out)
    assert "1 cases would be created" in out.getvalue()
    assert "line 3: E-mail : E-mail invalide" in out.getvalue()
    assert not Case.objects.exists()

    out = StringIO()
    call_command(
        "import_cases",
        str(path),
        "--mapping",
        "Société=company,3=email,Montant (€ HT)=amount",
        "--status",
        "qualifie",
        "--owner",
        "manon",
        "--skip-duplicates",
        "--errors",
        str(tmp_path / "errors.csv"),
        stdout=out,
    )
    assert "Imported 1 cases" in out.getvalue()
    case = Case.objects.get()
    assert (case.company, case.status, case.owner, case.amount, case.contact_name) == (
        "Alpha",
        "qualifie",
        manager,
        Decimal("1200.00"),
        "",  # not in the explicit mapping
    )
    assert "Beta" in (tmp_path / "errors.csv").read_text(encoding="utf-8-sig")
    assert AuditEvent.objects.get(action="import").actor_label == "system"

    out = StringIO()
    call_command("import_cases", str(path), "--skip-duplicates", stdout=out)
    assert "Imported 0 cases" in out.getvalue()


# --- Bad input: huge amounts, mixed encodings, too many columns ----------------------


@pytest.mark.parametrize("digits", [11, 27, 28, 40, 400])
def test_an_amount_with_too_many_digits_is_a_row_error(default_flow, digits):
    """27 digits or more made Decimal.quantize raise InvalidOperation: a 500."""
    data = csv_bytes([["Alpha", "", "", "", "9" * digits + ",50", "", "", ""]])

    result = preview(data, default_flow)

    assert (result.total, result.invalid) == (1, 1)
    (row,) = result.invalid_rows
    assert row.errors == {
        4: "Montant trop grand : 9\xa0999\xa0999\xa0999,99 € au plus."
    }


def test_the_largest_amount_the_field_holds_is_read(default_flow, manager):
    data = csv_bytes([["Alpha", "", "", "", "9 999 999 999,99", "", "", ""]])
    assert run(data, default_flow, manager).created == 1
    assert Case.objects.get().amount == Decimal("9999999999.99")


def test_the_preview_page_shows_a_huge_amount_as_a_row_error(
    client, default_flow, manager
):
    client.force_login(manager)
    _upload(client, csv_bytes([["Alpha", "", "", "", "9" * 30, "", "", ""]]))
    run_ = ImportRun.objects.get()
    response = client.get(reverse("flows:import_preview", args=[run_.token]))
    assert response.status_code == 200
    assert "Montant trop grand" in response.content.decode()


def test_import_cases_command_reports_a_huge_amount(tmp_path, default_flow):
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([["Alpha", "", "", "", "9" * 27, "", "", ""]]))
    out = StringIO()
    call_command("import_cases", str(path), "--dry-run", stdout=out)
    assert "line 2: Montant (€ HT) : Montant trop grand" in out.getvalue()


def _mixed_file() -> bytes:
    """UTF-8 (header and two rows) with one row saved as Windows-1252."""
    good = csv_bytes(
        [
            ["Société Générale", "Zoé", "", "", "", "", "", ""],
            ["Brasserie Ça", "", "", "", "", "", "", ""],
        ],
        encoding="utf-8",
    )
    bad = "Café Noël;Élodie;;;;;;\r\n".encode("cp1252")
    return good + bad


def test_one_windows_1252_row_in_a_utf8_file_is_a_row_error(default_flow, manager):
    """One bad byte read the whole file as cp1252: "Société" became
    "SociÃ©tÃ©" and its column was dropped from the mapping."""
    data = _mixed_file()
    info = imports.sniff(source_of(data))
    assert info.encoding == "utf-8"
    assert info.headers == FRENCH_HEADERS
    assert imports.guess_mapping(info.headers)[0] == "company"

    result = preview(data, default_flow)

    assert (result.total, result.invalid) == (3, 1)
    (row,) = result.invalid_rows
    assert row.line == 4
    assert "Ligne illisible" in row.errors[None]
    assert run(data, default_flow, manager).created == 2
    assert set(Case.objects.values_list("company", flat=True)) == {
        "Société Générale",
        "Brasserie Ça",
    }


def test_the_preview_page_lists_the_unreadable_row_with_its_line(
    client, default_flow, manager
):
    client.force_login(manager)
    _upload(client, _mixed_file())
    run_ = ImportRun.objects.get()
    assert run_.encoding == "utf-8"
    html = client.get(reverse("flows:import_preview", args=[run_.token])).content
    assert "Ligne illisible" in html.decode()


def test_a_utf8_header_with_a_windows_1252_byte_is_refused_clearly():
    data = "Soci\u00e9t\u00e9;Nom\r\nZo\u00e9;x\r\n".encode()
    data = data.replace(b"Soci\xc3\xa9t\xc3\xa9", "Société".encode("cp1252"))
    with pytest.raises(imports.ImportFileError, match="titres de colonnes"):
        imports.sniff(source_of(data))


def test_a_wholly_windows_1252_file_is_still_read_as_cp1252():
    data = csv_bytes([["Café Noël", "Élodie", "", "", "", "", "", ""]])
    assert imports.sniff(source_of(data)).encoding == "cp1252"


def test_a_file_with_too_many_columns_gets_a_clear_message(
    client, default_flow, manager
):
    client.force_login(manager)
    headers = [f"Colonne {n}" for n in range(1000)]
    response = _upload(client, csv_bytes([["x"] * 1000], headers=headers))
    assert response.status_code == 200
    assert "compte 1000 colonnes : 200 au plus" in response.content.decode()
    assert not ImportRun.objects.exists()
    with pytest.raises(imports.ImportFileError, match="200 au plus"):
        imports.sniff(source_of(csv_bytes([[]], headers=headers[:201])))
    assert (
        len(imports.sniff(source_of(csv_bytes([[]], headers=headers[:200]))).headers)
        == 200
    )
