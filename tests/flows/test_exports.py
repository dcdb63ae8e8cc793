"""Board exports: CSV for Excel in France or plain, the board's filters, access."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from config import clock
from flows.engine import services
from flows.intake import exports
from tests.conftest import make_user
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

URL = reverse("flows:board_export")


def _read(response, delimiter: str) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


@pytest.fixture
def cases(default_flow, member, other_member, manager):
    first = CaseFactory(
        flow=default_flow,
        owner=member,
        title="Rénovation boutique",
        company="Boulangerie Martin",
        contact_name="Claire Martin",
        email="claire@martin.fr",
        phone="06 12 34 56 78",
        amount=Decimal("12500.50"),
        next_action="Envoyer le devis",
        next_action_due=date(2027, 1, 31),
    )
    second = CaseFactory(
        flow=default_flow, owner=other_member, title="Cuisine", company="Café Noël"
    )
    services.move_case(second, "perdu", user=manager, reason="Budget")
    return first, second


def test_excel_format_bom_semicolons_decimal_comma_french_dates(client, member, cases):
    first, _second = cases
    client.force_login(member)
    response = client.get(URL, {"format": "excel"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="pilote-dossiers-'
    )
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(StringIO(raw.decode().lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [
        "Référence",
        "Titre",
        "Société",
        "Contact",
        "E-mail",
        "Téléphone",
        "Statut",
        "Responsable du dossier",
        "Montant (€ HT)",
        "Prochaine action",
        "Échéance",
        "Créé le",
        "Jours dans le statut",
    ]
    row = next(r for r in rows if r[0] == first.reference)
    assert row[1:11] == [
        "Rénovation boutique",
        "Boulangerie Martin",
        "Claire Martin",
        "claire@martin.fr",
        "+33 6 12 34 56 78",  # a phone number is not a formula
        "Nouveau lead",
        "Louis",
        "12500,50",
        "Envoyer le devis",
        "31/01/2027",
    ]
    assert row[11] == timezone.localtime(first.created_at).strftime("%d/%m/%Y %H:%M")
    assert row[12] == "0"
    lost = next(r for r in rows if r[1] == "Cuisine")
    assert (lost[6], lost[7]) == ("Perdu", "Sarah")


def test_plain_format_utf8_commas_iso(client, member, cases):
    first, _second = cases
    client.force_login(member)
    response = client.get(URL)
    raw = b"".join(response.streaming_content)
    assert not raw.startswith("\ufeff".encode())
    rows = list(csv.reader(StringIO(raw.decode()), delimiter=","))
    row = next(r for r in rows if r[0] == first.reference)
    assert (row[8], row[10]) == ("12500.50", "2027-01-31")
    assert row[11] == timezone.localtime(first.created_at).strftime("%Y-%m-%d %H:%M")


def test_export_follows_the_board_filters(client, member, cases):
    first, second = cases
    client.force_login(member)
    mine = _read(client.get(URL, {"owner": "mine"}), ",")
    assert [r[0] for r in mine[1:]] == [first.reference]
    found = _read(client.get(URL, {"q": "café"}), ",")
    assert [r[0] for r in found[1:]] == [second.reference]


def test_export_is_recorded_with_its_filters(client, member, cases):
    client.force_login(member)
    b"".join(client.get(URL, {"owner": "mine", "format": "excel"}).streaming_content)
    event = AuditEvent.objects.get(action="export")
    assert event.actor == member
    assert event.data["format"] == "excel" and event.data["rows"] == 1
    assert event.data["filters"] == {
        "owner": "mine",
        "q": "",
        "stale": False,
        "overdue": False,
        "waiting": False,
    }


def test_export_access_per_role(client, cases, manager, django_user_model):
    # Anonymous: the login page.
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # Signed in but without a role in the team: refused and audited.
    outsider = make_user(django_user_model, "paul", None)
    client.force_login(outsider)
    assert client.get(URL).status_code == 403
    assert AuditEvent.objects.filter(
        action="permission_denied", actor=outsider, data__action="export"
    ).exists()
    assert not AuditEvent.objects.filter(action="export").exists()
    # Members and managers: every case of the team (one source of truth),
    # which is exactly what the board shows them.
    client.force_login(manager)
    rows = _read(client.get(URL), ",")
    assert len(rows) == 1 + 2


def test_formulas_are_neutralised_but_numbers_and_phones_kept():
    assert exports.neutralize('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert exports.neutralize("@SUM(A1)") == "'@SUM(A1)"
    assert exports.neutralize("+1+cmd|' /C calc'!A0").startswith("'")
    assert exports.neutralize("+33 6 12 34 56 78") == "+33 6 12 34 56 78"
    assert exports.neutralize("-12,5") == "-12,5"
    assert exports.neutralize("Normal") == "Normal"


def test_days_in_status_count_from_the_entry(client, member, default_flow):
    case = CaseFactory(flow=default_flow, owner=member)
    with clock.frozen_at(clock.now() + timedelta(days=3, hours=1)):
        client.force_login(member)
        rows = _read(client.get(URL), ",")
    row = next(r for r in rows if r[0] == case.reference)
    assert row[12] == "3"


def test_export_link_on_the_board_carries_the_filters(client, member, cases):
    client.force_login(member)
    html = client.get(reverse("flows:board"), {"owner": "mine"}).content.decode()
    assert f"{URL}?owner=mine&amp;format=excel" in html
