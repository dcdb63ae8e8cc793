"""The sessions a person has open: recorded at login, listed, ended.

Django's session rows carry no user column (their data is encoded), so each
login records a `UserSession` row naming its session key. The middleware
follows the key when Django rotates it (password change) and refreshes the
last activity at most once a minute.
"""

from __future__ import annotations

import re
import time
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import record
from config.http import client_ip
from config.models import UserSession

# Session keys: the tracking row as [pk, session key], the last refresh.
TRACKED_KEY = "pilote_session_row"
SEEN_KEY = "pilote_session_seen_at"
SEEN_INTERVAL_SECONDS = 60

_BROWSERS = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome")]
_BROWSERS += [("Chromium/", "Chromium"), ("Safari/", "Safari")]
_SYSTEMS = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad")]
_SYSTEMS += [("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux")]


def describe_user_agent(user_agent: str) -> str:
    """ "Firefox · Linux" from a User-Agent header; the header itself otherwise."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    described = " · ".join(part for part in (browser, system) if part)
    return described or re.sub(r"\s+", " ", user_agent)[:60]


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _remember(request: HttpRequest, row: UserSession) -> None:
    request.session[TRACKED_KEY] = [row.pk, row.session_key]
    request.session[SEEN_KEY] = int(time.time())


def record_login(request: HttpRequest, user) -> UserSession | None:
    """Record the session a login just opened; forget the user's dead ones."""
    key = request.session.session_key
    if not key:
        return None
    live = Session.objects.values("session_key")
    UserSession.objects.filter(user=user).exclude(session_key__in=live).delete()
    now = timezone.now()
    row, _created = UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ip": client_ip(request) or None,
            "created_at": now,
            "last_seen_at": now,
        },
    )
    _remember(request, row)
    return row


def forget(request: HttpRequest) -> None:
    """The session is ending (logout): drop its row."""
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).delete()


def track(request: HttpRequest) -> None:
    """Follow a rotated key, note the activity; no query most of the time."""
    session = getattr(request, "session", None)
    if session is None or not session.session_key:
        return
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    tracked = session.get(TRACKED_KEY)
    now = int(time.time())
    if tracked is not None and tracked[1] == session.session_key:
        if now - session.get(SEEN_KEY, 0) > SEEN_INTERVAL_SECONDS:
            UserSession.objects.filter(pk=tracked[0]).update(
                last_seen_at=timezone.now()
            )
            session[SEEN_KEY] = now
        return
    # A rotated key (password change) or a session older than the tracking.
    moved = tracked is not None and UserSession.objects.filter(
        pk=tracked[0], user=user
    ).update(session_key=session.session_key, last_seen_at=timezone.now())
    if moved:
        session[TRACKED_KEY] = [tracked[0], session.session_key]
    else:
        record_login(request, user)


def active_sessions(*, user) -> list[UserSession]:
    """The user's sessions that are still valid, most recent activity first."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    rows = UserSession.objects.filter(user=user, session_key__in=live)
    return list(rows.order_by("-last_seen_at", "-pk"))


def _end(rows: list[UserSession]) -> int:
    store = _store()
    for row in rows:
        store(session_key=row.session_key).delete()
    UserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def end_session(*, user, pk: int, current_key: str | None) -> int:
    """End one of the user's other sessions; return how many ended (0 or 1)."""
    rows = list(
        UserSession.objects.filter(user=user, pk=pk).exclude(session_key=current_key)
    )
    with transaction.atomic():
        ended = _end(rows)
        if ended:
            record("session_ended", user=user, data={"count": ended, "which": "one"})
    return ended


def end_other_sessions(*, user, current_key: str | None) -> int:
    """End every session of the user but the current one; return how many."""
    rows = list(UserSession.objects.filter(user=user).exclude(session_key=current_key))
    with transaction.atomic():
        ended = _end(rows)
        if ended:
            data = {"count": ended, "which": "others"}
            record("session_ended", user=user, data=data)
    return ended


def end_all_sessions(*, user, reason: str) -> int:
    """End every recorded session of `user` (deactivation); audited by the system."""
    rows = list(UserSession.objects.filter(user=user))
    if not rows:
        return 0
    with transaction.atomic():
        ended = _end(rows)
        data = {"count": ended, "which": "all", "reason": reason}
        record("session_ended", obj=user, data=data)
    return ended


def for_page(*, user, current_key: str | None) -> list[UserSession]:
    """The active sessions, each with `is_current` and a short `description`."""
    rows = active_sessions(user=user)
    for row in rows:
        row.is_current = row.session_key == current_key
        row.description = describe_user_agent(row.user_agent)
    return rows
