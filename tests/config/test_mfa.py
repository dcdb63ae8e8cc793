"""Two-factor sign-in: enrolment, the second step, recovery codes, staff."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from config.account import mfa
from tests.config.test_settings import PRODUCTION_ENV, _manage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, ahead: int = 0) -> str:
    """The device's code now, or `ahead` time steps later (a fresh one)."""
    device.refresh_from_db()
    value = totp(
        device.bin_key, device.step, device.t0, device.digits, device.drift + ahead
    )
    return f"{value:06d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    device = mfa.start_enrolment(user=user)
    codes = mfa.confirm_enrolment(user=user, device=device, code=code_for(device))
    return device, codes


def sign_in(client, username: str):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def actions(user) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor=user)
        .exclude(action__in=["login", "logout"])
        .values_list("action", flat=True)
    )


def test_enrolment_from_the_security_page(client, member):
    client.force_login(member)
    page = client.get(reverse("account:security"))
    assert "Désactivée" in page.content.decode()

    assert client.post(reverse("account:totp_start"))["Location"] == reverse(
        "account:totp_setup"
    )
    setup = client.get(reverse("account:totp_setup"))
    html = setup.content.decode()
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    assert 'src="data:image/svg+xml' in html
    assert mfa.secret_text(device) in html
    assert "no-store" in setup["Cache-Control"]

    wrong = client.post(reverse("account:totp_setup"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "pas valable" in wrong.content.decode()

    device.throttle_reset()
    response = client.post(reverse("account:totp_setup"), {"code": code_for(device)})
    assert response["Location"] == reverse("account:recovery_codes")
    codes_page = client.get(reverse("account:recovery_codes")).content.decode()
    tokens = list(StaticToken.objects.filter(device__user=member))
    assert len(tokens) == mfa.RECOVERY_CODE_COUNT
    assert all(token.token in codes_page for token in tokens)
    # Shown once.
    assert client.get(reverse("account:recovery_codes")).status_code == 302
    # This browser confirmed a code: it is verified and keeps working.
    assert client.get(reverse("flows:board")).status_code == 200
    assert actions(member) == ["mfa_failed", "mfa_enabled"]


def test_second_step_is_required_once_a_device_exists(client, member, default_flow):
    device, _codes = enrol(member)
    response = sign_in(client, "louis")
    assert response.status_code == 302
    board = client.get(reverse("flows:board"))
    assert board["Location"] == reverse("account:verify") + "?next=%2Fboard%2F"
    # htmx requests are sent to the code page too, not given a fragment.
    fragment = client.get(reverse("flows:board"), headers={"HX-Request": "true"})
    assert fragment["HX-Redirect"].startswith(reverse("account:verify"))
    # Public pages stay public; the admin does not.
    assert client.get(reverse("password_reset")).status_code == 200
    assert client.get("/admin/")["Location"].startswith(reverse("account:verify"))

    page = client.get(reverse("account:verify"), {"next": "/board/"})
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()
    verified = client.post(
        reverse("account:verify"),
        {"code": code_for(device, ahead=1), "next": "/board/"},
    )
    assert verified["Location"] == "/board/"
    assert client.get(reverse("flows:board")).status_code == 200


def test_a_wrong_code_is_refused_audited_then_limited(client, member, settings):
    enrol(member)
    sign_in(client, "louis")
    refused = client.post(reverse("account:verify"), {"code": "123456"})
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "Il vous reste 4 essais" in html
    assert client.get(reverse("flows:board")).status_code == 302
    event = AuditEvent.objects.filter(action="mfa_failed").last()
    assert event.actor == member and event.data["step"] == "sign_in"

    for _ in range(settings.MFA_MAX_ATTEMPTS - 1):
        last = client.post(reverse("account:verify"), {"code": "123456"})
    # Back to the password: the session is gone.
    assert last["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(action="mfa_failed", data__step="sign_in")
    assert failures.count() == settings.MFA_MAX_ATTEMPTS


def test_a_throttled_device_says_to_wait(client, member):
    device, _codes = enrol(member)
    sign_in(client, "louis")
    client.post(reverse("account:verify"), {"code": "123456"})
    # Right code, but django-otp holds the device for a second after a failure.
    response = client.post(reverse("account:verify"), {"code": code_for(device, 1)})
    assert "attendez" in response.content.decode()


def test_a_recovery_code_works_once(client, member):
    _device, codes = enrol(member)
    sign_in(client, "louis")
    typed = codes[0].upper()[:4] + "-" + codes[0][4:]
    response = client.post(reverse("account:verify"), {"code": typed})
    assert response["Location"] == "/"
    assert client.get(reverse("flows:board")).status_code == 200
    event = AuditEvent.objects.get(action="recovery_code_used")
    assert event.data == {"step": "sign_in", "left": mfa.RECOVERY_CODE_COUNT - 1}

    client.logout()
    sign_in(client, "louis")
    again = client.post(reverse("account:verify"), {"code": codes[0]})
    assert again.status_code == 200
    assert client.get(reverse("flows:board")).status_code == 302


def test_regenerated_recovery_codes_replace_the_old_ones(client, member):
    _device, old = enrol(member)
    client.force_login(member)
    # force_login has no second step: verify this session through the page.
    client.post(reverse("account:verify"), {"code": old[1]})
    response = client.post(reverse("account:recovery_regenerate"))
    assert response["Location"] == reverse("account:recovery_codes")
    new = set(StaticToken.objects.values_list("token", flat=True))
    assert len(new) == mfa.RECOVERY_CODE_COUNT
    assert not new & set(old)


def test_disable_asks_the_password_or_a_code(client, member):
    _device, codes = enrol(member)
    client.force_login(member)
    client.post(reverse("account:verify"), {"code": codes[0]})
    empty = client.post(reverse("account:mfa_disable"), {})
    assert empty.status_code == 200
    wrong = client.post(reverse("account:mfa_disable"), {"password": "nope"})
    assert "Mot de passe incorrect" in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=member).exists()

    response = client.post(reverse("account:mfa_disable"), {"password": PASSWORD})
    assert response["Location"] == reverse("account:security")
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not StaticToken.objects.filter(device__user=member).exists()
    assert AuditEvent.objects.filter(action="mfa_disabled", actor=member).exists()
    # Signing in is the password alone again.
    client.logout()
    sign_in(client, "louis")
    assert client.get(reverse("flows:board")).status_code == 200


def test_an_unverified_session_cannot_reach_the_security_page(client, member):
    enrol(member)
    sign_in(client, "louis")
    for name in ("account:security", "account:mfa_disable", "account:totp_start"):
        response = client.post(reverse(name), {"password": PASSWORD})
        assert response["Location"].startswith(reverse("account:verify"))
    assert TOTPDevice.objects.filter(user=member, confirmed=True).exists()


def test_staff_without_a_device_are_sent_to_enrolment(client, manager, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    sign_in(client, "manon")
    board = client.get(reverse("flows:board"))
    assert board["Location"] == reverse("account:security")
    page = client.get(reverse("account:security")).content.decode()
    assert "Votre rôle exige la double authentification" in page
    assert client.get(reverse("audit:log"))["Location"] == reverse("account:security")

    client.post(reverse("account:totp_start"))
    device = TOTPDevice.objects.get(user=manager)
    client.post(reverse("account:totp_setup"), {"code": code_for(device)})
    assert client.get(reverse("flows:board")).status_code == 200


def test_staff_may_skip_enrolment_when_the_setting_is_off(client, manager, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    sign_in(client, "manon")
    assert client.get(reverse("flows:board")).status_code == 200


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"DEBUG": "1"}, "False"), (PRODUCTION_ENV, "True")],
    ids=["development", "production"],
)
def test_staff_requirement_defaults_to_on_in_production_only(env, expected):
    show = "from django.conf import settings; print(settings.MFA_REQUIRED_FOR_STAFF)"
    result = _manage("shell", "--no-imports", "-c", show, env=env)
    assert result.stdout.strip() == expected, result.stderr


def test_members_are_never_required_to_enrol(client, member, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    sign_in(client, "louis")
    assert client.get(reverse("flows:board")).status_code == 200


def test_removing_a_device_elsewhere_lifts_the_second_step(client, member):
    device, _codes = enrol(member)
    sign_in(client, "louis")
    assert client.get(reverse("flows:board")).status_code == 302
    # An admin removes the lost phone.
    mfa.disable(user=member)
    response = client.get(reverse("account:verify"), {"next": "/board/"})
    assert response["Location"] == "/board/"
    assert client.get(reverse("flows:board")).status_code == 200


def test_the_security_page_reads_in_english(client, member):
    client.force_login(member)
    html = client.get(
        reverse("account:security"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Account security" in html and "Turn two-factor sign-in on" in html
    assert "End all other sessions" not in html  # a single session
    assert "This session" in html
