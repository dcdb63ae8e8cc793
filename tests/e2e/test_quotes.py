"""A quote from the case page to the client's acceptance, in a real browser."""

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from documents import services as document_services
from documents.models import CompanyProfile, Quote
from flows import access, presets
from flows.engine import services as flow_services
from flows.models import ChecklistItem
from tests.conftest import PASSWORD, make_user
from tests.documents.conftest import SELLER
from tests.e2e.conftest import login
from tests.factories import CaseFactory
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(django_user_model):
    """Transactional tests start empty: flow, people, categories, profile."""
    flow = presets.load_lead_to_signature("fr")
    document_services.ensure_default_categories()
    louis = make_user(django_user_model, "louis", access.MEMBER, first_name="Louis")
    manon = make_user(django_user_model, "manon", access.MANAGER, first_name="Manon")
    profile = CompanyProfile.load()
    for name, value in SELLER.items():
        setattr(profile, name, value)
    profile.save()
    case = CaseFactory(
        flow=flow,
        owner=louis,
        title="Rénovation de la boutique",
        company="Boulangerie Martin",
        contact_name="Claire Martin",
        email="claire@boulangerie.example",
    )
    # The case reached "Devis envoyé" earlier (a manager's justified moves);
    # its follow-up is planned: the quote is what is left.
    for target in ("qualifie", "rendez_vous", "devis_envoye"):
        flow_services.move_case(
            case, target, user=manon, override=True, reason="Historique du dossier"
        )
    for item in ChecklistItem.objects.filter(
        status__flow=flow, status__code="devis_envoye", kind=ChecklistItem.Kind.MANUAL
    ):
        flow_services.set_checklist_item(case, item, user=louis, done=True)
    return case


def _normal(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def test_build_issue_send_then_the_client_accepts(
    browser, page, live_server, setup, mailoutbox, tmp_path
):
    case = setup
    login(page, live_server, "louis", PASSWORD)
    page.goto(f"{live_server.url}{case.get_absolute_url()}")
    quotes = page.locator("#quotes")
    expect(quotes).to_contain_text("Aucun devis")

    # Build: a new draft, two lines (the second added with HTMX), live totals.
    quotes.get_by_role("button", name="Nouveau devis").click()
    expect(page.locator("#quote-builder-form")).to_be_visible()
    page.fill("#id_quote-client_address", "3 rue Mercière\n69002 Lyon")
    page.fill("#id_lines-0-description", "Dépose de l'existant")
    page.fill("#id_lines-0-quantity", "1")
    page.fill("#id_lines-0-unit", "forfait")
    page.fill("#id_lines-0-unit_price", "850")
    page.get_by_role("button", name="+ Ajouter une ligne").click()
    expect(page.locator("#id_lines-1-description")).to_be_visible()
    page.fill("#id_lines-1-description", "Peinture des murs")
    page.fill("#id_lines-1-quantity", "68")
    page.fill("#id_lines-1-unit", "m²")
    page.fill("#id_lines-1-unit_price", "24,50")
    page.select_option("#id_lines-1-vat_rate", label="10 %")
    # 850 × 1.20 + 1 666 × 1.10, computed by the server while typing.
    expect(page.locator("#quote-total-ttc")).to_have_text(re.compile(r"2\s852,60\s€"))
    expect(page.locator("#line-total-1")).to_have_text(re.compile(r"1\s666,00\s€"))

    # Issue: a number and a PDF; the builder is gone.
    page.get_by_role("button", name="Émettre le devis (numéro et PDF)").click()
    expect(quotes).to_contain_text("Émis, pas encore envoyé")
    quote = Quote.objects.get()
    assert re.fullmatch(r"DEV-\d{4}-0001", quote.number)
    expect(quotes).to_contain_text(quote.number)
    expect(page.locator("#quote-builder-form")).to_have_count(0)

    # Send: the client receives the PDF and the link.
    quotes.get_by_role("button", name="Envoyer au client").click()
    expect(quotes).to_contain_text("Envoyé à claire@boulangerie.example")
    # The e-mail leaves from a task: the page says so until a worker ran it.
    expect(quotes).to_contain_text("E-mail en cours d'envoi")
    assert mailoutbox == []
    assert run_tasks() == 1
    page.reload()
    expect(quotes).to_contain_text("Envoyé à claire@boulangerie.example")
    expect(quotes).not_to_contain_text("E-mail en cours d'envoi")
    [message] = mailoutbox
    link = re.search(r"http://\S+/q/[\w-]+/", message.body).group(0)

    # The client, in another browser context without any session.
    client_context = browser.new_context(locale="fr-FR", accept_downloads=True)
    try:
        client = client_context.new_page()
        response = client.goto(link)
        assert response.status == 200
        assert response.headers["referrer-policy"] == "no-referrer"
        expect(client.locator("h1")).to_contain_text(quote.number)
        expect(client.locator("body")).to_contain_text("Atelier Bernard Agencement")
        expect(client.locator(".public-totals")).to_contain_text("2 852,60")

        with client.expect_download() as download_info:
            client.get_by_role("link", name="Télécharger le devis (PDF)").click()
        download = download_info.value
        assert download.suggested_filename == f"{quote.number}.pdf"
        path = tmp_path / "devis.pdf"
        download.save_as(path)
        text = _normal(
            "".join(
                p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages
            )
        )
        assert quote.number in text and "Total TTC 2 852,60 €" in text

        client.fill("#id_name", "Claire Martin")
        client.get_by_label(re.compile("Bon pour accord")).check()
        client.fill("#id_comment", "Bon pour accord, merci.")
        client.get_by_role("button", name="J'accepte ce devis").click()
        expect(client.locator("h1")).to_contain_text("votre accord est enregistré")
        assert run_tasks() == 1  # the signed copy, the move, the e-mails

        # The team's side: evidence, signed copy, the case moved to "Signé".
        page.reload()
        expect(page.locator(".case-header")).to_contain_text("Signé")
        expect(quotes).to_contain_text("Accepté en ligne par Claire Martin")
        signed_link = quotes.get_by_role("link", name=re.compile("PDF signé"))
        expect(signed_link).to_be_visible()
        with page.expect_download() as signed_info:
            signed_link.click()
        signed_path = Path(tmp_path / "signe.pdf")
        signed_info.value.save_as(signed_path)
        signed = PdfReader(io.BytesIO(signed_path.read_bytes()))
        assert "Certificat d'acceptation" in signed.pages[-1].extract_text()
        expect(page.locator("#documents")).to_contain_text(
            f"Devis {quote.number} signé"
        )
        case.refresh_from_db()
        assert case.status == "signe"

        # The link now shows the "already accepted" page, 410, and nothing more.
        again = client.goto(link)
        assert again.status == 410
        expect(client.locator("h1")).to_contain_text("déjà été accepté")
        expect(client.locator("#accept-form")).to_have_count(0)
    finally:
        client_context.close()
