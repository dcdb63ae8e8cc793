"""Session bookkeeping at login (observers only, no domain rules)."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from config.middleware import LOGIN_AT_KEY, TOUCHED_AT_KEY


@receiver(user_logged_in, dispatch_uid="pilote-session-login-time")
def remember_login_time(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGIN_AT_KEY] = now
        request.session[TOUCHED_AT_KEY] = now
