"""Login is required everywhere except the pages declared public."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Pages an anonymous visitor may open, by URL name. Adding a public page means
# adding it here, on purpose.
PUBLIC_NAMES = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "admin:login",
    # The client's quote link: a valid token is the credential (issue 5).
    "documents:quote_public",
    "documents:quote_public_pdf",
    "documents:quote_accept",
    "documents:quote_decline",
    # The public lead form, when an admin enables it (issue 8).
    "lead_form",
    "lead_form_embed",
    # Health probes for load balancers and Docker: they name their checks'
    # outcomes and nothing else (config/health.py).
    "healthz",
    "readyz",
}


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield prefix + str(pattern.pattern), name


def _example_path(route: str) -> str:
    """Turn a route or regex into a concrete path with dummy parameters."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", "1", route)  # path() converters
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)  # regex groups
    path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    return "/" + path.lstrip("/")


ROUTES = sorted(set(_walk(get_resolver().url_patterns)), key=lambda r: r[0])
PRIVATE_ROUTES = [(route, name) for route, name in ROUTES if name not in PUBLIC_NAMES]


def test_the_urlconf_was_walked():
    names = {name for _route, name in ROUTES}
    assert "flows:board" in names
    assert "login" in names


@pytest.mark.parametrize(
    ("route", "name"), PRIVATE_ROUTES, ids=[r for r, _n in PRIVATE_ROUTES]
)
def test_anonymous_is_sent_to_login(client, route, name):
    path = _example_path(route)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 302, f"{path} answered {response.status_code}"
        location = response["Location"]
        # The admin's own pages send to its login page, the rest to ours.
        assert location.startswith(("/accounts/login/", "/admin/login/")), location


def test_public_pages_open_without_login(client):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/accounts/password_reset/").status_code == 200
