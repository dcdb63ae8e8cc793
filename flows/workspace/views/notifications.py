"""The bell's page: my notifications, mark them read, my reminder settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from flows.models import UserPreference
from flows.outbox import notifications
from flows.workspace.forms import PreferenceForm

LIST_LIMIT = 50


def _preference_form(user) -> PreferenceForm:
    preference = UserPreference.objects.filter(user=user).first()
    if preference is None:
        # Not saved yet: the digest would go out in French; offer the
        # language of this page.
        initial = {"language": (get_language() or "fr")[:2], "daily_digest": True}
    else:
        initial = {
            "language": preference.language,
            "daily_digest": preference.daily_digest,
        }
    return PreferenceForm(initial=initial)


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = notifications.recent_for(request.user, limit=LIST_LIMIT)
    context = {
        "notifications": rows,
        "unread": sum(1 for n in rows if n.read_at is None),
        "preference_form": _preference_form(request.user),
    }
    return render(request, "flows/notifications.html", context)


@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    count = notifications.mark_all_read(request.user)
    if count:
        messages.success(request, _("Toutes les notifications sont lues."))
    return redirect("flows:notifications")


@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST)
    if form.is_valid():
        UserPreference.objects.update_or_create(
            user=request.user,
            defaults={
                "language": form.cleaned_data["language"],
                "daily_digest": form.cleaned_data["daily_digest"],
            },
        )
        messages.success(request, _("Préférences enregistrées."))
        return redirect("flows:notifications")
    rows = notifications.recent_for(request.user, limit=LIST_LIMIT)
    context = {
        "notifications": rows,
        "unread": sum(1 for n in rows if n.read_at is None),
        "preference_form": form,
    }
    return render(request, "flows/notifications.html", context)
