"""Session lifetime (an idle timeout and an absolute one), the login check,
and the headers Django's SecurityMiddleware does not send."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from config.http import is_probe

LOGIN_AT_KEY = "pilote_login_at"
TOUCHED_AT_KEY = "pilote_touched_at"

# Refreshing the idle expiry writes the session row; doing it at most once a
# minute keeps the idle timeout accurate without a write per request.
TOUCH_INTERVAL_SECONDS = 60


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A health probe never reads the session: /readyz must answer 503,
        # not 500, while the database is down.
        user = None if is_probe(request) else getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            login_at = request.session.get(LOGIN_AT_KEY)
            if login_at is None:
                request.session[LOGIN_AT_KEY] = now
            elif now - login_at > settings.SESSION_MAX_AGE:
                logout(request)
                messages.info(request, _("Votre session a expiré, reconnectez-vous."))
            elif now - request.session.get(TOUCHED_AT_KEY, 0) > TOUCH_INTERVAL_SECONDS:
                # Modifying the session re-sends the cookie with a fresh
                # SESSION_COOKIE_AGE: that is the idle timeout.
                request.session[TOUCHED_AT_KEY] = now
        return self.get_response(request)


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's, asking who the user is only for a view that needs a login.

    Django's reads request.user first, for every view: with a session
    cookie that is a query, and a health probe (config.health) must answer
    while the database is down. A public view passes either way.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


# Browser features Pilote never uses, denied to the page and to any frame in
# it: a script injected despite the CSP gets no camera, microphone, position,
# payment or device access. `interest-cohort` (FLoC) is obsolete: its
# successor is `browsing-topics`. Passkeys (`publickey-credentials-*`) are left
# alone: a later sign-in method may need them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "battery",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; no caching for signed-in users.

    Every page and HTMX partial a signed-in user gets holds team data: it
    must stay out of shared caches and the browser's disk cache (a shared
    computer's back button). A response that sets its own Cache-Control
    (the public quote page, downloads) keeps it. Static files never get
    here: WhiteNoise answers them earlier in MIDDLEWARE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = None if is_probe(request) else getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.setdefault("Cache-Control", "no-store, private")
        return response


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values)


class RefuseNulBytesMiddleware:
    """400 for a request whose path, query string or form values hold a NUL.

    PostgreSQL refuses "\\x00" in text: a lookup or a save with one raises
    ValueError, a 500 after validation should have answered. Django's form
    CharField already refuses it (ProhibitNullCharactersValidator), but the
    path, the query string and any value a view reads from request.POST
    directly bypass forms; refusing it here covers them all at once.
    Uploaded file contents are not checked (request.POST holds no file):
    the CSV import refuses binary files itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            "\x00" in request.path
            or _has_nul(request.GET.keys())
            or _has_nul(
                value for _name, values in request.GET.lists() for value in values
            )
            or (request.method == "POST" and self._post_has_nul(request))
        ):
            return HttpResponseBadRequest(
                _("Requête refusée : elle contient un caractère nul."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    @staticmethod
    def _post_has_nul(request: HttpRequest) -> bool:
        # Reading request.POST here parses the body once, as
        # CsrfViewMiddleware does anyway; a body over the size limits raises
        # the same RequestDataTooBig (400) the view would.
        return _has_nul(request.POST.keys()) or _has_nul(
            value for _name, values in request.POST.lists() for value in values
        )
