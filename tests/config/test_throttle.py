"""Login throttling per address and per username, on top of axes' lockout."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import reverse

from audit.models import AuditEvent
from config import throttle
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HASHER = "tests.config.test_throttle.CountingHasher"


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting every password it hashes or checks."""

    calls = 0

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)


@pytest.fixture
def hashes(settings, member):
    """Counts from here: after the member's own password was hashed."""
    settings.PASSWORD_HASHERS = [HASHER]
    settings.LOGIN_IP_RATE_LIMIT = 10
    settings.LOGIN_USERNAME_RATE_LIMIT = 8
    CountingHasher.calls = 0
    return CountingHasher


def _login(client, username, password, ip="198.51.100.1"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_one_address_spraying_30_usernames_is_stopped(client, hashes, member):
    statuses = [
        _login(client, f"user{n}", "Winter2026!").status_code for n in range(30)
    ]
    # Unknown usernames are hashed too (ModelBackend's timing defence):
    # every checked attempt hashes once, the refused ones not at all.
    assert hashes.calls == 10
    assert statuses == [200] * 10 + [429] * 20
    events = AuditEvent.objects.filter(action="login_throttled")
    assert [e.data["limit"] for e in events] == [throttle.IP]
    assert "Winter2026!" not in str(events.get().data)


def test_the_refusal_says_why_in_french(client, hashes, member):
    for n in range(10):
        _login(client, f"user{n}", "wrong")
    response = _login(client, "user99", "wrong")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Trop de tentatives de connexion depuis votre adresse réseau" in html


def test_one_account_guessed_from_four_addresses_is_stopped(
    client, hashes, member, mailoutbox
):
    ips = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]
    statuses = [
        _login(client, "louis", f"guess-{n}", ip=ips[n % 4]).status_code
        for n in range(20)
    ]
    assert hashes.calls == 8
    assert statuses[:8] == [200] * 8
    assert set(statuses[8:]) == {429}
    # From a fifth address (the first four are also locked out by axes).
    fifth = _login(client, "louis", "x", ip="192.0.2.5").content.decode()
    assert "Trop de tentatives de connexion sur ce compte" in fifth
    # The owner is warned once, though the attack went on.
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [member.email]
    assert "louis" in mailoutbox[0].body
    assert "guess" not in mailoutbox[0].body
    events = AuditEvent.objects.filter(action="login_throttled")
    assert [(e.data["limit"], e.data["username"]) for e in events] == [
        (throttle.USERNAME, "louis")
    ]


def test_the_user_logs_in_from_elsewhere_when_only_an_address_is_throttled(
    client, hashes, member
):
    for n in range(15):
        _login(client, f"user{n}", "wrong", ip="203.0.113.66")
    assert _login(client, "louis", PASSWORD, ip="203.0.113.66").status_code == 429
    response = _login(client, "louis", PASSWORD, ip="198.51.100.20")
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == member.pk


def test_successful_logins_do_not_count(client, hashes, member):
    """A team behind one address is held back by its failures only."""
    for _ in range(15):
        assert _login(client, "louis", PASSWORD).status_code == 302
        client.logout()
    assert _login(client, "louis", "wrong").status_code == 200


def test_no_mail_for_an_unknown_username(client, hashes, mailoutbox):
    for n in range(12):
        _login(client, "ghost", "wrong", ip=f"192.0.2.{n}")
    assert mailoutbox == []
    assert AuditEvent.objects.filter(action="login_throttled").count() == 1


def test_a_refused_address_does_not_count_against_usernames(
    client, hashes, member, mailoutbox
):
    """One machine spraying cannot lock out, nor e-mail, the accounts it tries."""
    for n in range(10):
        _login(client, f"user{n}", "wrong", ip="203.0.113.80")
    for _ in range(12):
        assert _login(client, "louis", "wrong", ip="203.0.113.80").status_code == 429
    assert mailoutbox == []
    assert _login(client, "louis", PASSWORD, ip="198.51.100.30").status_code == 302


def test_ipv6_addresses_of_one_network_share_a_count(client, hashes, member):
    for n in range(10):
        _login(client, f"user{n}", "wrong", ip=f"2001:db8:1:2::{n + 1:x}")
    assert _login(client, "user99", "wrong", ip="2001:db8:1:2::ffff").status_code == 429
    other_network = _login(client, "louis", PASSWORD, ip="2001:db8:1:3::1")
    assert other_network.status_code == 302
