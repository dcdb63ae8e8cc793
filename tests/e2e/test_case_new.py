"""A member creates a case: warned of a duplicate while typing, or after a
refused submit without JavaScript; creating anyway stays possible."""

import re
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

CASE_URL = re.compile(r"/cases/(\d{4}-\d{4})/$")


def _member_and_existing_case(django_user_model, **fields):
    # Transactional tests flush the data: the flow is built inside the test.

    flow = presets.load_lead_to_signature("fr")
    member = make_user(django_user_model, "louis", access.MEMBER)
    existing = CaseFactory(flow=flow, owner=member, title="Cuisine", **fields)
    return member, existing


def test_case_new_warns_of_a_duplicate_while_typing(
    page, live_server, django_user_model
):

    _member, existing = _member_and_existing_case(
        django_user_model, email="paul@martin.test"
    )
    login(page, live_server, "louis", PASSWORD)
    page.goto(f"{live_server.url}/cases/new/")

    duplicates = page.locator("#duplicates")
    expect(duplicates.get_by_role("listitem")).to_have_count(0)
    page.get_by_label("Titre").fill("Salle de bains")
    page.get_by_label("E-mail").fill("Paul@Martin.test")
    _plan_next_action(page)

    link = duplicates.get_by_role("link", name=re.compile(existing.reference))
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"/cases/{existing.reference}/")
    expect(duplicates).to_contain_text("même e-mail")

    page.get_by_role("button", name="Créer le dossier").click()
    page.wait_for_url(CASE_URL)
    reference = CASE_URL.search(page.url).group(1)
    created = Case.objects.get(reference=reference)
    assert created.pk != existing.pk
    assert created.title == "Salle de bains"
    assert created.email == "paul@martin.test"


def _plan_next_action(page) -> None:
    """The flow requires a next action and its due date (issue 7)."""

    page.get_by_label("Prochaine action").fill("Rappeler le client")
    due = timezone.localdate() + timedelta(days=2)
    page.get_by_label("Échéance").fill(due.isoformat())


def test_case_new_works_without_javascript(browser, live_server, django_user_model):

    _member, existing = _member_and_existing_case(
        django_user_model, company="Société Générale"
    )
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        login(page, live_server, "louis", PASSWORD)
        page.goto(f"{live_server.url}/cases/new/")
        page.get_by_label("Titre").fill("Toiture")
        page.get_by_label("Société").fill("societe generale")
        page.get_by_label("E-mail").fill("pas-un-email")
        _plan_next_action(page)
        page.get_by_role("button", name="Créer le dossier").click()

        expect(
            page.get_by_text("Saisissez une adresse de courriel valide.")
        ).to_be_visible()
        expect(page.get_by_label("Titre")).to_have_value("Toiture")
        expect(page.get_by_label("E-mail")).to_have_value("pas-un-email")
        # The warning comes with the refused form, without JavaScript too.
        duplicates = page.locator("#duplicates")
        link = duplicates.get_by_role("link", name=re.compile(existing.reference))
        expect(link).to_be_visible()
        expect(duplicates).to_contain_text("même société")
        assert Case.objects.count() == 1

        page.get_by_label("E-mail").fill("contact@societe-generale.test")
        page.get_by_role("button", name="Créer le dossier").click()
        page.wait_for_url(CASE_URL)
        reference = CASE_URL.search(page.url).group(1)
        created = Case.objects.get(reference=reference)
        assert created.title == "Toiture"
        assert created.email == "contact@societe-generale.test"
        assert created.company == "societe generale"
    finally:
        context.close()
