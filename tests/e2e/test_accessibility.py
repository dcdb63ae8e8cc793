"""Accessibility in the browser: axe-core finds nothing serious on the main
pages, and a case moves on the board with the keyboard alone.

axe-core comes bundled with axe-playwright-python (axe.min.js inside the
wheel): nothing is downloaded when the tests run.
"""

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from flows import access, presets
from flows.engine import services
from flows.models import Case, ChecklistItem
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

BLOCKING_IMPACTS = {"serious", "critical"}


def _axe_violations(page) -> list[dict]:

    results = Axe().run(page)
    return [
        violation
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [
            " ".join(str(part) for part in node["target"])
            for node in violation["nodes"][:3]
        ]
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" [{len(violation['nodes'])} node(s)] e.g. {targets}"
        )
    return "\n".join(lines)


def _team_and_cases(django_user_model):
    """A member, a colleague and cases that show every badge and column state."""

    flow = presets.load_lead_to_signature("fr")
    member = make_user(django_user_model, "louis", access.MEMBER, last_name="Martin")
    colleague = make_user(django_user_model, "sarah", access.MEMBER)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    case = CaseFactory(
        flow=flow,
        owner=member,
        title="Cuisine",
        amount=12500,
        phone="01 23 45 67 89",
        next_action="Rappeler le client",
        next_action_due=yesterday,
    )
    services.add_comment(case, user=member, body="Premier appel : rappeler lundi.")
    stale = CaseFactory(flow=flow, owner=member, title="Salle de bains")
    Case.objects.filter(pk=stale.pk).update(
        status_entered_at=timezone.now() - datetime.timedelta(days=30)
    )
    CaseFactory(
        flow=flow, owner=None, user=colleague, title="Toiture", next_action="Appeler"
    )
    CaseFactory(
        flow=flow,
        owner=member,
        title="Terrasse",
        next_action="Envoyer la brochure",
        next_action_due=timezone.localdate(),
    )
    return member, case


PAGES = {
    "login": "/accounts/login/",
    "board": "/board/",
    "case": "/cases/{reference}/",
    "case-new": "/cases/new/",
    "my-day": "/today/",
    "flow-map": "/flow/",
}

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    # Phones scroll the board and the flow diagram inside the page.
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
    },
}


@pytest.fixture(params=SCREENS.keys())
def screen_page(browser, request):
    context = browser.new_context(locale="fr-FR", **SCREENS[request.param])
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_page_has_no_serious_axe_violation(
    screen_page, live_server, django_user_model, path
):
    page = screen_page
    _member, case = _team_and_cases(django_user_model)
    if path != PAGES["login"]:
        login(page, live_server, "louis", PASSWORD)
    response = page.goto(live_server.url + path.format(reference=case.reference))
    assert response.ok, f"{path} answered {response.status}"
    page.wait_for_load_state("networkidle")

    violations = _axe_violations(page)
    assert not violations, f"axe-core on {path}:\n{_describe(violations)}"


def test_new_case_errors_are_tied_to_their_fields(page, live_server, django_user_model):
    """Django 5.2 points an invalid field's aria-describedby at "<id>_error"."""
    _team_and_cases(django_user_model)
    login(page, live_server, "louis", PASSWORD)
    page.goto(f"{live_server.url}/cases/new/")
    page.get_by_label("E-mail").fill("pas-un-email")
    page.get_by_role("button", name="Créer le dossier").click()

    title = page.get_by_label("Titre")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description(re.compile("obligatoire"))
    expect(page.get_by_label("E-mail")).to_have_accessible_description(
        re.compile("adresse de courriel valide")
    )
    dangling = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(el =>
            el.getAttribute('aria-describedby').split(/\\s+/)
              .filter(id => id && !document.getElementById(id))
              .map(id => `${el.id || el.tagName} -> #${id}`))"""
    )
    assert dangling == []
    violations = _axe_violations(page)
    assert not violations, f"axe-core on the refused form:\n{_describe(violations)}"


def test_board_with_a_refused_move_dialog_has_no_serious_axe_violation(
    page, live_server, django_user_model
):
    """The dialog a refused move opens is checked too (focus, labels)."""
    _member, case = _team_and_cases(django_user_model)
    login(page, live_server, "louis", PASSWORD)
    page.goto(f"{live_server.url}/board/")
    card = page.locator(f".card[data-reference='{case.reference}']")
    card.locator("select[name=target]").select_option("perdu")
    card.get_by_role("button", name="Déplacer").click()
    dialog = page.locator("dialog#move-dialog[open]")
    expect(dialog).to_be_visible()
    # The modal dialog takes the focus, on the reason it asks for.
    expect(dialog.locator("textarea[name=reason]")).to_be_focused()

    violations = _axe_violations(page)
    assert not violations, f"axe-core on the move dialog:\n{_describe(violations)}"


def test_move_a_case_on_the_board_with_the_keyboard_only(
    page, live_server, django_user_model
):

    flow = presets.load_lead_to_signature("fr")
    member = make_user(django_user_model, "louis", access.MEMBER)
    case = CaseFactory(
        flow=flow, owner=member, title="Cuisine", email="paul@martin.test"
    )
    manual_items = ChecklistItem.objects.filter(
        status__flow=flow, status__code="nouveau", kind=ChecklistItem.Kind.MANUAL
    )
    assert manual_items.exists()
    for item in manual_items:
        services.set_checklist_item(case, item, user=member, done=True)

    login(page, live_server, "louis", PASSWORD)
    page.goto(f"{live_server.url}/board/")
    card = page.locator(
        f"#column-nouveau-cards .card[data-reference='{case.reference}']"
    )
    select = card.locator("select[name=target]")
    expect(select).to_be_visible()

    # One Tab from the card's title link reaches its "move to" select, which
    # shows the focus ring.
    card.locator("a.card-title").focus()
    page.keyboard.press("Tab")
    expect(select).to_be_focused()
    assert select.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"

    # ArrowDown steps from the placeholder to the first move: "qualifie".
    page.keyboard.press("ArrowDown")
    expect(select).to_have_value("qualifie")

    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Déplacer")).to_be_focused()
    page.keyboard.press("Enter")

    moved = page.locator(
        f"#column-qualifie-cards .card[data-reference='{case.reference}']"
    )
    expect(moved).to_be_visible()
    expect(
        page.locator(f"#column-nouveau-cards .card[data-reference='{case.reference}']")
    ).to_have_count(0)
    case = Case.objects.get(pk=case.pk)
    assert case.status == "qualifie"
