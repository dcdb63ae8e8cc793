"""A manager imports a French Excel file in a browser: the preview refreshes
in place, the import button says it is working, nothing is written twice;
and a visitor sends the public lead form."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from flows import access, presets
from flows.intake import leadform
from flows.models import Case
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = [
    ["Société", "Nom du contact", "E-mail", "Montant (€ HT)", "Responsable"],
    ["Café Noël", "Élodie Müller", "elodie@cafe-noel.fr", "12 500,50 €", "manon"],
    ["Garage Dupont", "Marc Dupont", "marc@garage.fr", "8 000", ""],
    ["Mauvais", "", "pas-un-email", "", ""],
]


def _excel_file(tmp_path):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(ROWS)
    path = tmp_path / "clients.csv"
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    return path


def _world(django_user_model):
    # Transactional tests flush the data: the flow is built inside the test.
    flow = presets.load_lead_to_signature("fr")
    manager = make_user(django_user_model, "manon", access.MANAGER)
    return flow, manager


def test_manager_imports_a_french_excel_file(
    page, live_server, django_user_model, tmp_path
):
    _flow, manager = _world(django_user_model)
    login(page, live_server, "manon", PASSWORD)
    page.goto(f"{live_server.url}/import/")
    page.get_by_label("Fichier CSV").set_input_files(str(_excel_file(tmp_path)))
    page.get_by_role("button", name="Charger et voir l'aperçu").click()
    page.wait_for_url(re.compile(r"/import/[\w-]+/$"))

    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("E-mail invalide")
    expect(page.get_by_role("button", name="Importer 2 dossiers")).to_be_visible()

    # A setting changed: htmx refreshes the preview in place.
    page.get_by_label("Ignorer les doublons").uncheck()
    page.get_by_label("Statut des dossiers importés").select_option("qualifie")
    expect(preview).to_contain_text("dans « Qualifié »")
    assert Case.objects.count() == 0

    # Record what the page shows right after the click (it navigates away).
    page.evaluate(
        """() => document.addEventListener('submit', () => setTimeout(() => {
            const form = document.querySelector('[data-import-form]');
            const button = form.querySelector('button[value=import]');
            sessionStorage.setItem('busy', JSON.stringify({
                aria: form.getAttribute('aria-busy'), text: button.textContent.trim(),
                disabled: button.disabled,
                progress: !document.getElementById('import-progress').hidden}));
        }, 0))"""
    )
    page.get_by_role("button", name="Importer 2 dossiers").click()
    page.wait_for_url(re.compile(r"/done/$"))
    busy = page.evaluate("() => JSON.parse(sessionStorage.getItem('busy'))")
    assert busy == {
        "aria": "true",
        "text": "Import en cours…",
        "disabled": True,
        "progress": True,
    }
    expect(page.locator("main")).to_contain_text("2 dossiers importés")
    cases = Case.objects.order_by("reference")
    assert [(c.company, c.status) for c in cases] == [
        ("Café Noël", "qualifie"),
        ("Garage Dupont", "qualifie"),
    ]
    assert cases[0].owner == manager

    # Back and submit again: nothing is imported twice.
    page.go_back()
    page.reload()
    page.wait_for_url(re.compile(r"/done/$"))
    assert Case.objects.count() == 2


def test_visitor_sends_the_lead_form(page, live_server, django_user_model, settings):
    settings.LEAD_FORM_MIN_SECONDS = 1
    _world(django_user_model)
    row = leadform.lead_settings()
    row.enabled = True
    row.save()
    page.goto(f"{live_server.url}/lead/")
    page.get_by_label("Votre nom").fill("Jeanne Martin")
    page.get_by_label("Votre e-mail").fill("jeanne@atelier.fr")
    page.get_by_label("Votre demande").fill("Un devis pour notre vitrine.")
    # The honeypot is out of sight and out of the keyboard order.
    honeypot = page.locator(f"input[name={leadform.HONEYPOT}]")
    expect(honeypot).to_have_attribute("tabindex", "-1")
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_url(re.compile(r"merci=1$"))
    expect(page.locator("main")).to_contain_text("Votre demande est bien arrivée")
    case = Case.objects.get()
    assert (case.source, case.contact_name) == ("formulaire", "Jeanne Martin")


def test_a_large_import_runs_in_a_task_behind_a_progress_bar(
    page, live_server, django_user_model, tmp_path, settings
):
    """On a phone: the bar shows at once, the result comes once a worker ran."""
    settings.IMPORT_BACKGROUND_ROWS = 2
    _world(django_user_model)
    page.set_viewport_size({"width": 360, "height": 740})
    login(page, live_server, "manon", PASSWORD)
    page.goto(f"{live_server.url}/import/")
    page.get_by_label("Fichier CSV").set_input_files(str(_excel_file(tmp_path)))
    page.get_by_role("button", name="Charger et voir l'aperçu").click()
    page.wait_for_url(re.compile(r"/import/[\w-]+/$"))
    page.get_by_role("button", name="Importer 2 dossiers").click()
    page.wait_for_url(re.compile(r"/progress/$"))
    expect(page.locator("h1")).to_contain_text("en cours")
    expect(page.locator("progress#import-bar")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert Case.objects.count() == 0

    assert run_tasks() == 1
    # htmx polls the bar every second and follows the server to the result.
    page.wait_for_url(re.compile(r"/done/$"), timeout=10_000)
    expect(page.locator("main")).to_contain_text("dossiers créés")
    assert Case.objects.count() == 2
