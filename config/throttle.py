"""Login throttling across usernames and across addresses.

django-axes locks one username from one address (AXES_*). This adds two
fixed-window limits on top, counted in the shared cache
(`config.ratelimit.hit`, one atomic increment per attempt):

- per address (per /64 for IPv6), across usernames (credential stuffing,
  password spraying): LOGIN_IP_RATE_LIMIT attempts per LOGIN_RATE_WINDOW
  seconds;
- per username, across addresses (one account guessed from many machines):
  LOGIN_USERNAME_RATE_LIMIT attempts per window.

`LoginThrottleBackend` sits between axes' backend and ModelBackend, so a
throttled attempt is refused before any password is hashed. A successful
login gives its two hits back: a team behind one address is held back only
by its failures. The first refusal of a window records `login_throttled`
and, for the username limit, warns the account's owner by e-mail.
"""

from __future__ import annotations

import hashlib
import ipaddress
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from audit import services as audit
from audit.signals import ANONYMOUS
from config import mail, ratelimit
from config.http import client_ip

IP = "ip"
USERNAME = "username"
_ATTR = "pilote_login_throttle"


class LoginThrottleBackend:
    """Refuses (PermissionDenied) an attempt over a limit; never logs in.

    No `get_user`: sessions are never tied to this backend, and
    `Client.force_login` keeps picking ModelBackend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not username:
            return None
        if check_attempt(request, username) is not None:
            # Django's authenticate() stops at PermissionDenied: no later
            # backend runs, so no password is hashed.
            raise PermissionDenied
        return None


def _username_key(username: str) -> str:
    # Hashed: any text may be typed as a username, cache keys must stay safe.
    normalized = username.strip().casefold()[:150]
    return hashlib.sha256(normalized.encode()).hexdigest()


def _address_key(ip: str) -> str:
    """The address, or its /64 for IPv6: one machine easily holds a /64."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def check_attempt(request: HttpRequest, username: str) -> str | None:
    """Count one login attempt; the limit it trips (IP, USERNAME) or None."""
    window = settings.LOGIN_RATE_WINDOW
    limits = [
        (
            IP,
            f"login-ip:{_address_key(client_ip(request))}",
            settings.LOGIN_IP_RATE_LIMIT,
        ),
        (
            USERNAME,
            f"login-user:{_username_key(username)}",
            settings.LOGIN_USERNAME_RATE_LIMIT,
        ),
    ]
    buckets, tripped = [], None
    for name, key, limit in limits:
        count, bucket = ratelimit.hit(key, window=window)
        buckets.append(bucket)
        if count > limit:
            tripped = name
            if cache.add(f"{bucket}:tripped", 1, timeout=window + 1):
                _first_refusal(request, name, username, count=count)
            # An address already refused does not count against the
            # usernames it tries: it cannot lock out (nor get e-mailed)
            # accounts it sprays.
            break
    setattr(request, _ATTR, {"buckets": buckets, "tripped": tripped})
    return tripped


def tripped_limit(request: HttpRequest) -> str | None:
    """The limit that refused this request's login attempt, if any."""
    return (getattr(request, _ATTR, None) or {}).get("tripped")


def forget_attempt(request: HttpRequest) -> None:
    """A successful login: its hits do not count against the limits."""
    state = getattr(request, _ATTR, None)
    if state and not state["tripped"]:
        for bucket in state["buckets"]:
            ratelimit.give_back(bucket)


def retry_minutes() -> int:
    return max(1, -(-ratelimit.retry_after(settings.LOGIN_RATE_WINDOW) // 60))


def _first_refusal(request: HttpRequest, limit: str, username: str, *, count: int):
    """Once per limit, key and window: the audit event and the warning."""
    audit.record(
        "login_throttled",
        actor_label=ANONYMOUS,
        data={"limit": limit, "username": username[:150], "attempts": count},
    )
    if limit == USERNAME:
        _warn_owner(username)


def _warn_owner(username: str) -> None:
    """E-mail the account's owner, after the response (no timing to read)."""
    field = get_user_model().USERNAME_FIELD
    user = (
        get_user_model()
        ._default_manager.filter(**{f"{field}__iexact": username.strip()})
        .filter(is_active=True)
        .exclude(email="")
        .first()
    )
    if user is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Pilote : tentatives de connexion sur votre compte")
        body = _(
            "Bonjour,\n\n"
            "De nombreuses tentatives de connexion visent votre compte "
            "« %(username)s » depuis quelques minutes. Pilote les refuse pendant "
            "%(minutes)s min, avant même de vérifier le mot de passe ; vous "
            "pourrez vous connecter ensuite.\n\n"
            "Si ce n'est pas vous : choisissez un mot de passe que vous "
            "n'utilisez nulle part ailleurs et prévenez votre administrateur.\n"
        ) % {"username": user.get_username(), "minutes": retry_minutes()}
    mail.send_after_response(partial(send_mail, subject, body, None, [user.email]))
