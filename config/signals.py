"""Session bookkeeping at login (observers only, no domain rules)."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from config import throttle
from config.middleware import LOGIN_AT_KEY, TOUCHED_AT_KEY


@receiver(user_logged_in, dispatch_uid="pilote-session-login-time")
def remember_login_time(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGIN_AT_KEY] = now
        request.session[TOUCHED_AT_KEY] = now


@receiver(user_logged_in, dispatch_uid="pilote-login-throttle-refund")
def refund_login_attempt(sender, request, user, **kwargs) -> None:
    if request is not None:
        throttle.forget_attempt(request)
