"""The second step of sign-in, staff enrolment, and session tracking.

After a correct password the session is authenticated but, for a person
with a confirmed TOTP device, not yet verified (django-otp's
`user.is_verified()`). Until it is, every view but the code page, logout and
the public pages redirects to the code page. With `MFA_REQUIRED_FOR_STAFF`,
a manager or admin without a device is held on the enrolment pages the same
way. The admin's views are marked public (the admin checks access itself),
so they are held too.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from config.account import mfa, sessions
from config.http import is_probe

ALWAYS_ALLOWED = {"logout", "set_language"}
ALLOWED = {
    mfa.VERIFY: ALWAYS_ALLOWED | {"account:verify"},
    mfa.ENROL: ALWAYS_ALLOWED
    | {
        "account:security",
        "account:totp_start",
        "account:totp_setup",
        "account:recovery_codes",
    },
}
TARGET = {mfa.VERIFY: "account:verify", mfa.ENROL: "account:security"}


class SecondStepMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Health probes never read the session (config.health).
        if not is_probe(request):
            sessions.track(request)
        return response

    def process_view(
        self, request: HttpRequest, view_func, view_args, view_kwargs
    ) -> HttpResponse | None:
        if is_probe(request):
            return None
        step = mfa.pending_step(request)
        if step is None:
            return None
        match = request.resolver_match
        if match.view_name in ALLOWED[step]:
            return None
        public = not getattr(view_func, "login_required", True)
        if public and "admin" not in match.namespaces:
            return None
        url = reverse(TARGET[step])
        if step == mfa.VERIFY:
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)
