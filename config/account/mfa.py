"""Two-factor sign-in: one TOTP device per person, ten recovery codes.

The services here change devices and write the audit trail; the session
helpers at the bottom remember, per session, whether the person has a
confirmed device, so that a page costs no extra query to answer "is a
second step pending?" (the flag is set at login and refreshed by the
security and code pages).
"""

from __future__ import annotations

import re
from base64 import b32encode
from dataclasses import dataclass

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import record
from flows import access

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "totp"
RECOVERY_NAME = "recovery"

# Session keys.
HAS_DEVICE_KEY = "pilote_mfa_has_device"
FAILURES_KEY = "pilote_mfa_failures"
NEW_CODES_KEY = "pilote_mfa_new_codes"

# What a session must do before reaching the app (see pending_step).
VERIFY = "verify"
ENROL = "enrol"

_TOTP_CODE = re.compile(r"\d{6}")


class InvalidCode(Exception):
    """The code was refused (wrong, already used, or too many tries)."""


@dataclass(frozen=True)
class CodeCheck:
    device: Device | None
    kind: str
    throttled: bool = False


# --- Reads ---------------------------------------------------------------------


def confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code, for an <img> (CSP img-src data:)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def normalise(code: str) -> str:
    """A code as typed: spaces and dashes dropped, recovery codes lowercase."""
    return re.sub(r"[\s-]", "", code or "").lower()


# --- Services ------------------------------------------------------------------


def start_enrolment(*, user) -> TOTPDevice:
    """A fresh unconfirmed TOTP device, replacing an unfinished one.

    Raises InvalidCode when a confirmed device exists: disable it first.
    """
    with transaction.atomic():
        if has_device(user):
            raise InvalidCode("a confirmed device exists")
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def confirm_enrolment(*, user, device: TOTPDevice, code: str) -> list[str]:
    """Confirm `device` with its first code; return the new recovery codes.

    Raises InvalidCode (audited as `mfa_failed`) when the code is wrong.
    """
    if not django_otp.verify_token(user, device.persistent_id, normalise(code)):
        record("mfa_failed", user=user, data={"kind": TOTP_NAME, "step": "enrol"})
        raise InvalidCode("wrong code")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _replace_recovery_codes(user)
        record("mfa_enabled", user=user, obj=device)
    return codes


def regenerate_recovery_codes(*, user) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
        record("recovery_codes_generated", user=user, data={"count": len(codes)})
    return codes


def _replace_recovery_codes(user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def disable(*, user) -> None:
    """Remove the TOTP device and the recovery codes (audited)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        record("mfa_disabled", user=user)


def check_code(*, user, code: str, step: str) -> CodeCheck:
    """The device that accepts `code`: 6 digits for the app, else a recovery code.

    Every answer is audited: `mfa_failed`, `mfa_verified`, or
    `recovery_code_used` (with how many codes are left). django-otp's throttling
    (a delay doubling after each failure, kept on the device) answers
    `throttled` without checking the code.
    """
    code = normalise(code)
    if _TOTP_CODE.fullmatch(code):
        kind, device = TOTP_NAME, confirmed_totp(user)
    else:
        kind = RECOVERY_NAME
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    throttled = device is not None and not device.verify_is_allowed()[0]
    verified = None
    if device is not None and not throttled and code:
        verified = django_otp.verify_token(user, device.persistent_id, code)
    if verified is None:
        data = {"kind": kind, "step": step, "throttled": throttled}
        record("mfa_failed", user=user, data=data)
    elif kind == RECOVERY_NAME:
        left = verified.token_set.count()
        record("recovery_code_used", user=user, data={"step": step, "left": left})
    else:
        record("mfa_verified", user=user, data={"kind": kind, "step": step})
    return CodeCheck(device=verified, kind=kind, throttled=throttled)


# --- Per-session state -----------------------------------------------------------


def session_has_device(request: HttpRequest) -> bool:
    """Whether the signed-in person has a confirmed device (cached in the session)."""
    value = request.session.get(HAS_DEVICE_KEY)
    if value is None:
        value = remember_device_state(request)
    return value


def remember_device_state(request: HttpRequest, value: bool | None = None) -> bool:
    """Store (and return) whether the person has a device; read it if not given."""
    if value is None:
        value = has_device(request.user)
    request.session[HAS_DEVICE_KEY] = value
    return value


def pending_step(request: HttpRequest) -> str | None:
    """VERIFY (code step), ENROL (staff without a device) or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if session_has_device(request):
        return None if user.is_verified() else VERIFY
    if settings.MFA_REQUIRED_FOR_STAFF and access.is_manager(user):
        return ENROL
    return None


def mark_verified(request: HttpRequest, device: Device) -> None:
    """The session passed its second step with `device`."""
    django_otp.login(request, device)
    request.session[HAS_DEVICE_KEY] = True
    request.session.pop(FAILURES_KEY, None)


def count_failure(request: HttpRequest) -> int:
    """One more wrong code in this session; return how many tries are left."""
    failures = request.session.get(FAILURES_KEY, 0) + 1
    request.session[FAILURES_KEY] = failures
    return max(settings.MFA_MAX_ATTEMPTS - failures, 0)
