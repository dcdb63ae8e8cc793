"""Session lifetime: an idle timeout and an absolute one."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

LOGIN_AT_KEY = "pilote_login_at"
TOUCHED_AT_KEY = "pilote_touched_at"

# Refreshing the idle expiry writes the session row; doing it at most once a
# minute keeps the idle timeout accurate without a write per request.
TOUCH_INTERVAL_SECONDS = 60


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
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
