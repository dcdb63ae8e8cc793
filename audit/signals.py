"""Login events: observers of Django's and django-axes' signals."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from audit import context
from audit.services import record

ANONYMOUS = "anonymous"


def _with_request(request, action: str, **kwargs) -> None:
    # The signals may fire outside the middleware's context (the admin's own
    # login view, a test client): take the address from the request itself.
    if request is not None and context.current() is None:
        token = context.set_for_request(request)
        try:
            record(action, **kwargs)
        finally:
            context.reset(token)
    else:
        record(action, **kwargs)


@receiver(user_logged_in, dispatch_uid="audit-login")
def on_login(sender, request, user, **kwargs) -> None:
    _with_request(request, "login", user=user)


@receiver(user_logged_out, dispatch_uid="audit-logout")
def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        _with_request(request, "logout", user=user)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    _with_request(
        request, "login_failed", actor_label=ANONYMOUS, data={"username": username}
    )


@receiver(user_locked_out, dispatch_uid="audit-lockout")
def on_lockout(sender, request, username, ip_address, **kwargs) -> None:
    _with_request(
        request,
        "lockout",
        actor_label=ANONYMOUS,
        data={"username": str(username or "")[:150]},
    )
