from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from config.middleware import LOGIN_AT_KEY
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, username, password, **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, **extra
    )


def test_login_succeeds_and_rotates_the_session_key(client, member):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    response = _login(client, "louis", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session.session_key != before
    assert int(client.session["_auth_user_id"]) == member.pk


def test_wrong_password_shows_a_non_revealing_error(client, member):
    wrong = _login(client, "louis", "not-the-password")
    unknown = _login(client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert "_auth_user_id" not in client.session
    # Same message whether or not the account exists.
    wrong_errors = wrong.context["form"].non_field_errors()
    assert wrong_errors == unknown.context["form"].non_field_errors()
    assert wrong_errors


def test_logout_is_a_post(client, member):
    client.force_login(member)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_lockout_after_the_limit_then_unlock_after_cooloff(client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "louis", "wrong-password")
    locked = _login(client, "louis", PASSWORD)
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    # Cool-off elapsed: the same correct password now works.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    response = _login(client, "louis", PASSWORD)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == member.pk


def test_lockout_is_per_username_and_address(client, member, other_member):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "louis", "wrong-password")
    # Another account from the same address is not locked out...
    assert _login(client, "sarah", PASSWORD).status_code == 302
    client.logout()
    # ...nor the same account from another address.
    other = _login(client, "louis", PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 302


def test_success_resets_the_failure_count(client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "louis", "wrong-password")
    assert _login(client, "louis", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "louis", "wrong-password")
    assert _login(client, "louis", PASSWORD).status_code == 302


def test_spoofed_forwarded_for_does_not_escape_the_lockout(client, member, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "louis", "wrong-password", **proxy)
    # The attacker prepends a fresh address at every try; the proxy still
    # appends the real one, which is what counts.
    spoofed = {**proxy, "HTTP_X_FORWARDED_FOR": "192.0.2.55, 198.51.100.7"}
    assert _login(client, "louis", PASSWORD, **spoofed).status_code == 429


def test_absolute_session_lifetime(client, member, settings):

    client.force_login(member)
    assert client.get(reverse("flows:board")).status_code == 200
    session = client.session
    session[LOGIN_AT_KEY] = session[LOGIN_AT_KEY] - settings.SESSION_MAX_AGE - 1
    session.save()
    response = client.get(reverse("flows:board"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_password_change_requires_the_validators(client, member):
    client.force_login(member)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )
    assert response.status_code == 302


def test_password_reset_sends_a_link(client, member, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": member.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
