"""Cache-Control for signed-in users, Permissions-Policy for everyone."""

import pytest
from django.urls import reverse

from flows.intake import leadform

pytestmark = pytest.mark.django_db

DENIED = ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()")


def _policy(response) -> list[str]:
    return [part.strip() for part in response["Permissions-Policy"].split(",")]


def test_pages_and_partials_of_a_signed_in_user_are_never_stored(
    client, member, default_flow
):
    client.force_login(member)
    page = client.get(reverse("flows:board"))
    partial = client.get(reverse("flows:board"), headers={"HX-Request": "true"})
    for response in (page, partial):
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store, private"


def test_a_refusal_to_a_signed_in_user_is_not_stored_either(client, member):
    client.force_login(member)
    response = client.get(reverse("audit:log"))
    assert response.status_code == 403
    assert response["Cache-Control"] == "no-store, private"


def test_anonymous_pages_keep_their_own_cache_headers(client, default_flow):
    login = client.get(reverse("login"))
    # LoginView's own never_cache header, untouched.
    assert "no-store" in login["Cache-Control"]
    assert "max-age=0" in login["Cache-Control"]
    row = leadform.lead_settings()
    row.enabled = True
    row.save()
    assert client.get(reverse("lead_form"))["Cache-Control"] == "no-store"


def test_a_view_that_sets_its_own_cache_control_keeps_it(client, member, default_flow):
    row = leadform.lead_settings()
    row.enabled = True
    row.save()
    client.force_login(member)
    assert client.get(reverse("lead_form"))["Cache-Control"] == "no-store"


def test_every_response_denies_unused_browser_features(client, member):
    anonymous = client.get(reverse("login"))
    client.force_login(member)
    signed_in = client.get(reverse("flows:board"))
    for response in (anonymous, signed_in):
        policy = _policy(response)
        assert set(DENIED) <= set(policy)
        assert not any(part.startswith("interest-cohort") for part in policy)
