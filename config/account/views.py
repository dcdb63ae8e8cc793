"""The security page (two-factor sign-in, open sessions) and the code step."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import record
from config import http
from config.account import mfa, sessions
from config.account.forms import CodeForm, DisableForm
from flows import access


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    return http.safe_next(request, url, settings.LOGIN_REDIRECT_URL)


def _refusal(checked: mfa.CodeCheck, left: int | None = None) -> str:
    if checked.throttled:
        message = _("Trop d'essais rapprochés : attendez quelques secondes.")
    else:
        message = _("Ce code n'est pas valable.")
    if left is None:
        return message
    remaining = ngettext(
        "Il vous reste %(count)d essai.", "Il vous reste %(count)d essais.", left
    ) % {"count": left}
    return f"{message} {remaining}"


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Sign-in's second step: a code from the app, or a recovery code."""
    user = request.user
    # Read afresh: the device may have been removed since the login.
    if not mfa.remember_device_state(request) or user.is_verified():
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None, recovery=True)
    if request.method == "POST" and form.is_valid():
        checked = mfa.check_code(
            user=user, code=form.cleaned_data["code"], step="sign_in"
        )
        if checked.device is not None:
            mfa.mark_verified(request, checked.device)
            return redirect(_next_url(request))
        left = mfa.count_failure(request)
        if left == 0:
            logout(request)
            messages.error(
                request,
                _("Trop de codes refusés : reconnectez-vous avec votre mot de passe."),
            )
            return redirect(settings.LOGIN_URL)
        form.add_error("code", _refusal(checked, left))
    context = {"form": form, "next": _next_url(request), "second_step_pending": True}
    return render(request, "registration/verify.html", context)


def _render_security(
    request: HttpRequest, disable_form: DisableForm | None = None
) -> HttpResponse:
    user = request.user
    device = mfa.confirmed_totp(user)
    mfa.remember_device_state(request, device is not None)
    if device is not None and not user.is_verified():
        return redirect("account:verify")
    required = settings.MFA_REQUIRED_FOR_STAFF and access.is_manager(user)
    context = {
        "device": device,
        "codes_left": mfa.recovery_codes_left(user) if device else 0,
        "mfa_required": required,
        "second_step_pending": required and device is None,
        "disable_form": disable_form or DisableForm(),
        "sessions": sessions.for_page(
            user=user, current_key=request.session.session_key
        ),
    }
    return render(request, "account/security.html", context)


@require_GET
def security(request: HttpRequest) -> HttpResponse:
    return _render_security(request)


@require_POST
def totp_start(request: HttpRequest) -> HttpResponse:
    try:
        mfa.start_enrolment(user=request.user)
    except mfa.InvalidCode:
        return redirect("account:security")
    return redirect("account:totp_setup")


@never_cache
@require_http_methods(["GET", "POST"])
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the key), confirm with a first code."""
    device = mfa.pending_totp(request.user)
    if device is None:
        return redirect("account:security")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.confirm_enrolment(
                user=request.user, device=device, code=form.cleaned_data["code"]
            )
        except mfa.InvalidCode:
            form.add_error("code", _("Ce code n'est pas valable."))
        else:
            mfa.mark_verified(request, device)
            # Sessions opened with the password alone would stay signed in.
            sessions.end_other_sessions(
                user=request.user, current_key=request.session.session_key
            )
            request.session[mfa.NEW_CODES_KEY] = codes
            messages.success(request, _("La double authentification est activée."))
            return redirect("account:recovery_codes")
    context = {
        "form": form,
        "secret": mfa.secret_text(device),
        "qr_code": mfa.qr_data_uri(device),
        "second_step_pending": mfa.pending_step(request) == mfa.ENROL,
    }
    return render(request, "account/totp_setup.html", context)


@never_cache
@require_GET
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """The new recovery codes, shown once."""
    codes = request.session.pop(mfa.NEW_CODES_KEY, None)
    if not codes:
        return redirect("account:security")
    return render(request, "account/recovery_codes.html", {"codes": codes})


@require_POST
def recovery_regenerate(request: HttpRequest) -> HttpResponse:
    if mfa.confirmed_totp(request.user) is None:
        return redirect("account:security")
    codes = mfa.regenerate_recovery_codes(user=request.user)
    request.session[mfa.NEW_CODES_KEY] = codes
    return redirect("account:recovery_codes")


def _disable_allowed(request: HttpRequest, form: DisableForm) -> bool:
    user, data = request.user, form.cleaned_data
    if data["password"]:
        if user.check_password(data["password"]):
            return True
        record("mfa_failed", user=user, data={"kind": "password", "step": "disable"})
        form.add_error("password", _("Mot de passe incorrect."))
        return False
    checked = mfa.check_code(user=user, code=data["code"], step="disable")
    if checked.device is None:
        form.add_error("code", _refusal(checked))
    return checked.device is not None


@require_POST
def mfa_disable(request: HttpRequest) -> HttpResponse:
    """Turn two-factor sign-in off, with the password or a current code."""
    if mfa.confirmed_totp(request.user) is None:
        return redirect("account:security")
    form = DisableForm(request.POST)
    if not (form.is_valid() and _disable_allowed(request, form)):
        return _render_security(request, disable_form=form)
    mfa.disable(user=request.user)
    mfa.remember_device_state(request, False)
    messages.success(request, _("La double authentification est désactivée."))
    return redirect("account:security")


@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    current = request.session.session_key
    if sessions.end_session(user=request.user, pk=pk, current_key=current):
        messages.success(request, _("La session a été fermée."))
    return redirect("account:security")


@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    current = request.session.session_key
    ended = sessions.end_other_sessions(user=request.user, current_key=current)
    message = ngettext(
        "%(count)d session fermée.", "%(count)d sessions fermées.", ended
    ) % {"count": ended}
    messages.success(request, message)
    return redirect("account:security")
