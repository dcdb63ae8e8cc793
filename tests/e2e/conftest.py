"""Browser tests: Playwright driving Debian's chromium (never a downloaded one)."""

import os
import shutil

import pytest

CHROMIUM_CANDIDATES = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]


def _chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured
    for path in CHROMIUM_CANDIDATES:
        if os.path.exists(path):
            return path
    return shutil.which("chromium")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if path is None:
        message = "Debian's chromium is not installed (apt-get install chromium)."
        if os.environ.get("CI"):
            pytest.fail(message + " Browser tests never skip in CI.")
        pytest.skip(message)
    # After the check above: without Playwright the message says what to install.
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            args=["--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
