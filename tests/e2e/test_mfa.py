"""Two-factor sign-in in the browser: enrol with the app's code, sign in
again with the second step, on a desktop and on a phone."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from flows import access
from tests.config.test_mfa import code_for
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login
from tests.e2e.test_accessibility import _axe_violations, _describe

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
}


@pytest.fixture(params=SCREENS.keys())
def screen(browser, request):
    context = browser.new_context(locale="fr-FR", **SCREENS[request.param])
    context.set_default_timeout(10_000)
    yield context.new_page(), SCREENS[request.param]["viewport"]["width"]
    context.close()


def _check_page(page, width: int, what: str) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, f"{what}: {scroll}px wide on a {width}px screen"
    violations = _axe_violations(page)
    assert not violations, f"axe-core on {what}:\n{_describe(violations)}"


def test_enrol_then_sign_in_with_a_code(screen, live_server, django_user_model):
    page, width = screen
    member = make_user(django_user_model, "louis", access.MEMBER)
    login(page, live_server, "louis", PASSWORD)

    page.get_by_role("link", name="Sécurité").click()
    expect(page.get_by_role("heading", name="Sécurité du compte")).to_be_visible()
    page.get_by_role("button", name="Activer la double authentification").click()

    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    expect(page.locator("#totp-secret")).not_to_be_empty()
    _check_page(page, width, "the set-up page")
    device = TOTPDevice.objects.get(user=member)
    page.get_by_label("Code à 6 chiffres").fill(code_for(device))
    page.get_by_role("button", name="Confirmer").click()

    expect(page.get_by_role("heading", name="Vos codes de secours")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    _check_page(page, width, "the recovery codes")
    page.get_by_role("link", name="J'ai noté mes codes").click()
    expect(page.get_by_text("Activée")).to_be_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    login(page, live_server, "louis", PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/verify/"))
    heading = page.get_by_role("heading", name="Vérification en deux étapes")
    expect(heading).to_be_visible()
    # Until the code is given, the navigation is not offered.
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav).to_have_count(0)
    _check_page(page, width, "the code step")

    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_text("Ce code n'est pas valable.")).to_be_visible()
    device.throttle_reset()
    page.get_by_label("Code").fill(code_for(device, ahead=1))
    page.get_by_role("button", name="Vérifier").click()
    expect(page).to_have_url(re.compile(r"/board/"))
    expect(nav.get_by_role("link", name="Tableau")).to_be_visible()
