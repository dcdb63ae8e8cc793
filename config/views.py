"""Project-level views: login, lockout, password reset, language switch."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from config import forms, ratelimit, throttle

_login = auth_views.LoginView.as_view(authentication_form=forms.LoginForm)


@login_not_required
def login(request: HttpRequest) -> HttpResponse:
    """Django's login view; 429 with Retry-After when throttling refused."""
    response = _login(request)
    if throttle.tripped_limit(request) is not None:
        response.status_code = 429
        response["Retry-After"] = str(ratelimit.retry_after(settings.LOGIN_RATE_WINDOW))
    return response


# The same work whether or not the address has an account (config.forms).
password_reset = auth_views.PasswordResetView.as_view(
    form_class=forms.PasswordResetForm
)


@login_not_required
def lockout(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """django-axes lockout page: the login form again, with a clear reason.

    The message is the same whether or not the username exists.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request)
    context = {"form": form, "locked_out": True, "cooloff_minutes": minutes}
    return render(request, "registration/login.html", context, status=429)


# The language switcher is on the login page too.
set_language = login_not_required(require_POST(django_set_language))


@require_GET
def coming_soon(request: HttpRequest, page: str) -> HttpResponse:
    return render(request, "coming_soon.html", {"page": page})
