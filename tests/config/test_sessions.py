"""Open sessions: listed on the security page, ended from another browser."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from config.models import UserSession
from tests.config.test_mfa import code_for
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)


def browser(user_agent: str, address: str = "127.0.0.1") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = client.post(
        reverse("login"), {"username": "louis", "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def test_the_security_page_lists_sessions_and_marks_this_one(member):
    laptop = browser(FIREFOX)
    browser(PHONE, "203.0.113.7")
    html = laptop.get(reverse("account:security")).content.decode()
    assert "Firefox · Linux" in html and "Chrome · Android" in html
    assert "203.0.113.7" in html
    assert html.count("Cette session") == 1
    assert html.count("Fermer cette session") == 1
    # Session keys are secrets: the page names rows by number.
    for key in UserSession.objects.values_list("session_key", flat=True):
        assert key not in html


def test_ending_another_session_signs_that_browser_out(member):
    laptop = browser(FIREFOX)
    phone = browser(PHONE)
    assert phone.get(reverse("flows:board")).status_code == 200
    other = UserSession.objects.get(user_agent=PHONE)

    response = laptop.post(reverse("account:session_end", args=[other.pk]))
    assert response["Location"] == reverse("account:security")
    signed_out = phone.get(reverse("flows:board"))
    assert signed_out["Location"].startswith(reverse("login"))
    assert laptop.get(reverse("flows:board")).status_code == 200
    event = AuditEvent.objects.get(action="session_ended")
    assert event.actor == member and event.data == {"count": 1, "which": "one"}


def test_this_session_cannot_be_ended_as_another(member):
    laptop = browser(FIREFOX)
    own = UserSession.objects.get()
    laptop.post(reverse("account:session_end", args=[own.pk]))
    assert laptop.get(reverse("flows:board")).status_code == 200


def test_someone_elses_session_cannot_be_ended(member, other_member):
    phone = browser(PHONE)
    sarah = Client()
    sarah.force_login(other_member)
    row = UserSession.objects.get(user=member)
    sarah.post(reverse("account:session_end", args=[row.pk]))
    assert phone.get(reverse("flows:board")).status_code == 200


def test_end_all_other_sessions(member):
    laptop = browser(FIREFOX)
    phone, tablet = browser(PHONE), browser(PHONE)
    response = laptop.post(reverse("account:sessions_end_others"))
    assert response.status_code == 302
    for client in (phone, tablet):
        assert client.get(reverse("flows:board")).status_code == 302
    assert laptop.get(reverse("flows:board")).status_code == 200
    assert UserSession.objects.filter(user=member).count() == 1


def test_deactivating_a_user_ends_their_sessions(member):
    phone = browser(PHONE)
    keys = list(UserSession.objects.values_list("session_key", flat=True))
    member.is_active = False
    member.save()
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user=member).exists()
    assert phone.get(reverse("flows:board")).status_code == 302
    event = AuditEvent.objects.get(action="session_ended")
    assert event.data["reason"] == "deactivated"


def test_logout_forgets_the_session(member):
    laptop = browser(FIREFOX)
    laptop.post(reverse("logout"))
    assert not UserSession.objects.exists()


def test_a_password_change_keeps_the_session_listed(member):
    laptop = browser(FIREFOX)
    before = laptop.session.session_key
    laptop.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )
    # Django rotated the key; the row followed it.
    assert laptop.session.session_key != before
    row = UserSession.objects.get(user=member)
    assert row.session_key == laptop.session.session_key


def test_enabling_two_factor_ends_the_other_sessions(member):
    laptop = browser(FIREFOX)
    phone = browser(PHONE)
    laptop.post(reverse("account:totp_start"))
    device = member.totpdevice_set.get()
    laptop.post(reverse("account:totp_setup"), {"code": code_for(device)})
    # The phone signed in with the password alone: it is signed out.
    assert phone.get(reverse("flows:board")).status_code == 302
    assert laptop.get(reverse("flows:board")).status_code == 200
