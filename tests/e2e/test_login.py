"""A person logs in, reads the navigation in French, switches to English, logs out."""

import re

import pytest
from playwright.sync_api import expect

from flows import access
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_language_switch_and_logout(page, live_server, django_user_model):

    make_user(django_user_model, "louis", access.MEMBER, first_name="Louis")
    login(page, live_server, "louis", PASSWORD)

    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Tableau")).to_be_visible()
    expect(nav.get_by_role("link", name="Ma journée")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    # htmx 2 is served by the app itself and runs under the strict CSP.
    assert page.evaluate("window.htmx && htmx.version").startswith("2.")

    # The switcher submits on change (JavaScript), or with its button.
    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Board")).to_be_visible()
    expect(nav.get_by_role("link", name="My day")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_wrong_password_in_the_browser(page, live_server, django_user_model):

    make_user(django_user_model, "louis", access.MEMBER)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "louis")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]:has-text('Se connecter')")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
