"""Insights and the diagnostic in a real browser."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from flows import access, presets
from flows.models import Case
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_follows_money_at_risk_to_the_stale_cases(
    page, live_server, django_user_model
):
    flow = presets.load_lead_to_signature("fr")
    louis = make_user(django_user_model, "louis", access.MEMBER, first_name="Louis")
    make_user(django_user_model, "manon", access.MANAGER, first_name="Manon")
    asleep = CaseFactory(
        flow=flow, owner=louis, title="Dort depuis dix jours", amount=12000
    )
    fresh = CaseFactory(flow=flow, owner=louis, title="Tout frais", amount=5000)
    Case.objects.filter(pk=asleep.pk).update(
        status_entered_at=timezone.now() - timedelta(days=10)
    )

    login(page, live_server, "manon", PASSWORD)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Indicateurs"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Indicateurs")
    risk = page.locator("#money-at-risk")
    expect(risk).to_contain_text("1 dossier hors délai")
    expect(risk.get_by_role("img", name="Argent en risque par statut")).to_be_visible()

    risk.get_by_role("link", name="Voir la liste des dossiers hors délai").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dossiers hors délai")
    table = page.locator("table.case-table")
    expect(table).to_contain_text(asleep.reference)
    expect(table).to_contain_text("Dort depuis dix jours")
    expect(table).not_to_contain_text(fresh.title)
    table.get_by_role(
        "link", name=f"{asleep.reference} · Dort depuis dix jours"
    ).click()
    expect(page).to_have_url(f"{live_server.url}/cases/{asleep.reference}/")


def test_a_member_answers_the_diagnostic_and_sees_the_score(
    page, live_server, django_user_model
):
    presets.load_lead_to_signature("fr")
    make_user(django_user_model, "sarah", access.MEMBER, first_name="Sarah")

    login(page, live_server, "sarah", PASSWORD)
    page.goto(f"{live_server.url}/diagnostic/")
    statements = page.locator("li.statement")
    expect(statements).to_have_count(10)
    for index in range(10):
        answer = "Oui" if index in (0, 1, 5, 6, 9) else "Non"
        statements.nth(index).get_by_label(answer).check()
    page.get_by_role("button", name="Voir mon score").click()

    result = page.locator("#diagnostic-result")
    expect(result).to_contain_text("5 « oui » sur 10")
    expect(result).to_contain_text("Le problème est le système, pas l'effort")
    expect(page.locator(".messages")).to_contain_text("Diagnostic enregistré")
