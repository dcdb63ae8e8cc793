"""A member on a phone: no sideways page scroll, the status picker jumps
between columns, and a case moves with the card's "move to" control."""

import pytest
from playwright.sync_api import expect

from flows import access, presets
from flows.engine import services
from flows.models import Case
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="fr-FR",
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _member_with_cases(django_user_model):
    # Transactional tests flush the data: the flow is built inside the test.

    flow = presets.load_lead_to_signature("fr")
    member = make_user(django_user_model, "louis", access.MEMBER)
    case = CaseFactory(
        flow=flow,
        owner=member,
        title="Rénovation complète de la cuisine et de la salle de bains attenante",
        company="Établissements Durand-Lefebvre et associés",
        amount=48250,
        next_action="Rappeler pour fixer la date de la visite technique",
    )
    # A card in the last column: its hidden labels must not widen the page.
    lost = CaseFactory(
        flow=flow, owner=member, title="Toiture", next_action="Relancer en janvier"
    )
    services.move_case(lost, "perdu", user=member, reason="Budget insuffisant")
    return member, case


# Elements sticking out past the right edge, scrollers' contents left aside
# (absolutely positioned ones may escape their scroller: they are kept).
_OVERFLOWING = """limit => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > limit)
  .filter(el => {
    if (['absolute', 'fixed'].includes(getComputedStyle(el).position)) { return true; }
    for (let up = el.parentElement; up; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') { return false; }
    }
    return true;
  })
  .slice(0, 5)
  .map(el => el.outerHTML.slice(0, 80))"""


def _assert_no_page_overflow(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, (
        f"{what}: the page is {width}px wide on a {PHONE['width']}px screen; "
        f"sticking out: {page.evaluate(_OVERFLOWING, PHONE['width'] + 1)}"
    )


def test_board_on_a_phone(phone, live_server, django_user_model):

    _member, case = _member_with_cases(django_user_model)
    page = phone
    login(page, live_server, "louis", PASSWORD)
    page.goto(f"{live_server.url}/board/")
    _assert_no_page_overflow(page, "board")

    # The columns scroll inside the board, one at a time; the picker jumps.
    board = page.locator("#board")
    assert board.evaluate("el => el.scrollWidth > el.clientWidth")
    picker = page.locator("nav.status-picker")
    expect(picker).to_be_visible()
    lost_column = page.locator("#column-perdu")
    board_left = board.bounding_box()["x"]
    assert lost_column.bounding_box()["x"] > PHONE["width"]

    picker.locator("a[href='#column-perdu']").tap()
    expect(page).to_have_url(f"{live_server.url}/board/#column-perdu")
    page.wait_for_function(
        """([selector, left]) => Math.abs(
            document.querySelector(selector).getBoundingClientRect().left - left) < 2""",
        arg=["#column-perdu", board_left],
    )
    expect(lost_column.get_by_role("heading", name="Perdu")).to_be_in_viewport()
    _assert_no_page_overflow(page, "board after the picker")

    # Back to the first column, then "move to" on the card, with a tap.
    picker.locator("a[href='#column-nouveau']").tap()
    card = page.locator(f"#column-nouveau-cards #case-{case.pk}")
    expect(card).to_be_in_viewport()
    card.locator("select[name=target]").select_option("perdu")
    card.get_by_role("button", name="Déplacer").tap()

    # Losing a case needs a reason: the server's 409 brings a dialog.
    dialog = page.locator("dialog#move-dialog")
    expect(dialog).to_be_visible()
    reason = dialog.locator("textarea[name=reason]")
    expect(reason).to_be_visible()
    expect(reason).to_be_in_viewport()
    reason.fill("Le client reporte le projet à l'an prochain")
    dialog.get_by_role("button", name="Confirmer le déplacement").tap()

    expect(page.locator(f"#column-perdu-cards #case-{case.pk}")).to_be_attached()
    expect(page.locator("dialog#move-dialog")).to_have_count(0)
    expect(page.locator(f"#column-nouveau-cards #case-{case.pk}")).to_have_count(0)
    case = Case.objects.get(pk=case.pk)
    assert case.status == "perdu"
    assert case.lost_reason == "Le client reporte le projet à l'an prochain"
    _assert_no_page_overflow(page, "board after the move")


@pytest.mark.parametrize(
    "path",
    ["/cases/{reference}/", "/cases/new/", "/today/", "/flow/"],
    ids=["case", "case-new", "my-day", "flow-map"],
)
def test_page_fits_a_phone(phone, live_server, django_user_model, path):
    _member, case = _member_with_cases(django_user_model)
    login(phone, live_server, "louis", PASSWORD)
    response = phone.goto(live_server.url + path.format(reference=case.reference))
    assert response.ok, f"{path} answered {response.status}"
    expect(phone.locator("h1")).to_be_visible()
    _assert_no_page_overflow(phone, path)
