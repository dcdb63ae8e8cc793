"""Observers: record a session at login, forget it at logout, end a
deactivated person's sessions."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from config.account import mfa, sessions


@receiver(user_logged_in, dispatch_uid="pilote-account-login")
def on_login(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    sessions.record_login(request, user)
    # Read once here, so pages need no query to know a second step is due.
    request.session[mfa.HAS_DEVICE_KEY] = mfa.has_device(user)
    request.session.pop(mfa.FAILURES_KEY, None)


@receiver(user_logged_out, dispatch_uid="pilote-account-logout")
def on_logout(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        sessions.forget(request)


@receiver(post_save, sender=get_user_model(), dispatch_uid="pilote-account-inactive")
def on_user_saved(sender, instance, created, **kwargs) -> None:
    # A deactivated person is signed out everywhere (TECH-NOTES §9).
    if not created and not instance.is_active:
        sessions.end_all_sessions(user=instance, reason="deactivated")
