"""The board in a real browser: drag and drop, refusals, conflicts, no JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from flows import access, presets
from flows.engine import services
from flows.models import Case, ChecklistItem
from flows.workspace.views import board
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def flow(db):
    return presets.load_lead_to_signature("fr")


@pytest.fixture
def louis(django_user_model):
    return make_user(django_user_model, "louis", access.MEMBER, first_name="Louis")


@pytest.fixture
def manon(django_user_model):
    return make_user(django_user_model, "manon", access.MANAGER, first_name="Manon")


def _card(page, case):
    return page.locator(f"#case-{case.pk}")


def test_drag_refused_then_fixed_and_moved_with_the_keyboard_control(
    page, live_server, flow, louis
):
    case = CaseFactory(flow=flow, owner=louis, title="Vitrine", email="", phone="")
    login(page, live_server, "louis", PASSWORD)
    page.goto(f"{live_server.url}/board/")
    expect(page.locator("#column-nouveau-header")).to_contain_text("1 dossier")

    # Drag the card to "Qualifié": the checklist is incomplete.
    _card(page, case).drag_to(page.locator("#column-qualifie-cards"))
    dialog = page.locator("dialog#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Coordonnées vérifiées")
    expect(dialog).to_contain_text("Besoin noté en une phrase")
    # The card is back where the server says it is.
    expect(
        page.locator("#column-nouveau-cards").locator(f"#case-{case.pk}")
    ).to_be_visible()
    case.refresh_from_db()
    assert case.status == "nouveau"

    # Follow the link to fix the checklist on the case page.
    dialog.get_by_role("link", name="Besoin noté en une phrase").click()
    expect(page).to_have_url(
        re.compile(rf"/cases/{case.reference}/#checklist-item-\d+")
    )
    page.locator("#checklist").get_by_role(
        "button", name="Besoin noté en une phrase"
    ).click()
    expect(page.locator("#checklist")).to_contain_text("Fait par Louis")
    page.locator("#case-details").get_by_role("link", name="Modifier").click()
    page.fill("#id_email", "contact@vitrine.example")
    page.locator("#case-details").get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#case-details")).to_contain_text("contact@vitrine.example")

    # Back on the board, the "move to" control (no mouse needed).
    page.goto(f"{live_server.url}/board/")
    card = _card(page, case)
    card.locator("select[name=target]").select_option("qualifie")
    card.get_by_role("button", name="Déplacer").click()
    expect(
        page.locator("#column-qualifie-cards").locator(f"#case-{case.pk}")
    ).to_be_visible()
    expect(page.locator("#column-qualifie-header")).to_contain_text("1 dossier")
    expect(page.locator("#column-nouveau-header")).to_contain_text("0 dossier")
    case.refresh_from_db()
    assert case.status == "qualifie"


def test_drag_and_drop_moves_a_ready_case(page, live_server, flow, louis):
    case = CaseFactory(flow=flow, owner=louis, email="a@b.example")
    for item in ChecklistItem.objects.filter(
        status__flow=flow, status__code="nouveau", kind="manual"
    ):
        services.set_checklist_item(case, item, user=louis, done=True)
    login(page, live_server, "louis", PASSWORD)
    page.goto(f"{live_server.url}/board/")
    _card(page, case).drag_to(page.locator("#column-qualifie-cards"))
    # The headers come from the server: the move went through.
    expect(page.locator("#column-qualifie-header")).to_contain_text("1 dossier")
    expect(page.locator("#column-nouveau-header")).to_contain_text("0 dossier")
    expect(
        page.locator("#column-qualifie-cards").locator(f"#case-{case.pk}")
    ).to_be_visible()
    expect(page.locator("dialog#move-dialog")).to_have_count(0)
    case.refresh_from_db()
    assert case.status == "qualifie"


def test_two_people_move_the_same_case(browser, live_server, flow, louis, manon):
    case = CaseFactory(flow=flow, owner=louis, title="Conflit")
    contexts = [browser.new_context(locale="fr-FR") for _ in range(2)]
    try:
        pages = [context.new_page() for context in contexts]
        login(pages[0], live_server, "louis", PASSWORD)
        login(pages[1], live_server, "manon", PASSWORD)
        for page in pages:
            page.goto(f"{live_server.url}/board/")
            expect(_card(page, case)).to_be_visible()

        # Manon marks it lost first (with the reason the dialog asks for)...
        manon_card = _card(pages[1], case)
        manon_card.locator("select[name=target]").select_option("perdu")
        manon_card.get_by_role("button", name="Déplacer").click()
        pages[1].fill(
            "dialog#move-dialog textarea[name=reason]", "Le client a signé ailleurs"
        )
        pages[1].locator("dialog#move-dialog").get_by_role(
            "button", name="Confirmer le déplacement"
        ).click()
        expect(
            pages[1].locator("#column-perdu-cards").locator(f"#case-{case.pk}")
        ).to_be_visible()

        # ...then Louis, whose board still shows it new, tries to qualify it.
        louis_card = _card(pages[0], case)
        louis_card.locator("select[name=target]").select_option("qualifie")
        louis_card.get_by_role("button", name="Déplacer").click()
        dialog = pages[0].locator("dialog#move-dialog")
        expect(dialog).to_contain_text("vient de changer")
        # His board now shows the truth.
        expect(
            pages[0].locator("#column-perdu-cards").locator(f"#case-{case.pk}")
        ).to_be_visible()
        case.refresh_from_db()
        assert case.status == "perdu"
        assert case.status_changes.filter(from_status__isnull=False).count() == 1
    finally:
        for context in contexts:
            context.close()


def test_move_without_javascript(browser, live_server, flow, louis):
    case = CaseFactory(flow=flow, owner=louis, title="Sans JS")
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        page = context.new_page()
        login(page, live_server, "louis", PASSWORD)
        page.goto(f"{live_server.url}/board/?owner=mine")
        card = _card(page, case)
        card.locator("select[name=target]").select_option("perdu")
        card.get_by_role("button", name="Déplacer").click()
        # Refused (a reason is needed): the case page explains and asks for it.
        expect(page.get_by_role("alert")).to_contain_text("Indiquez un motif")
        page.fill("#refusal-reason", "Projet abandonné")
        page.get_by_role("button", name="Confirmer le déplacement").click()
        # Back to the filtered board, the card in its new column.
        expect(page).to_have_url(re.compile(r"/board/\?owner=mine$"))
        expect(
            page.locator("#column-perdu-cards").locator(f"#case-{case.pk}")
        ).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("Perdu")
        assert Case.objects.get(pk=case.pk).status == "perdu"
    finally:
        context.close()


def test_managers_board_refreshes_itself(
    page, live_server, flow, louis, manon, monkeypatch
):

    monkeypatch.setattr(board, "MANAGER_REFRESH_SECONDS", 1)
    login(page, live_server, "manon", PASSWORD)
    page.goto(f"{live_server.url}/board/")
    expect(page.locator("#column-nouveau-header")).to_contain_text("0 dossier")
    # Someone else creates a case meanwhile: the manager's board shows it
    # without a reload.
    CaseFactory(flow=flow, owner=louis, title="Arrivé pendant la réunion")
    expect(page.locator("#column-nouveau-cards")).to_contain_text(
        "Arrivé pendant la réunion", timeout=8000
    )
    expect(page.locator("#column-nouveau-header")).to_contain_text("1 dossier")
