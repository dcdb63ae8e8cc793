"""The public lead form: /lead/ (a page) and /lead/embed/ (for an iframe)."""

from __future__ import annotations

import logging

from csp.constants import NONE
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from config import ratelimit
from config.http import client_ip
from flows.intake import forms, leadform

logger = logging.getLogger(__name__)

PAGE = "flows/lead_form.html"
EMBED = "flows/lead_form_embed.html"


def _lead_page(request: HttpRequest, *, embed: bool) -> HttpResponse:
    row = leadform.lead_settings()
    if not row.enabled:
        raise Http404
    template = EMBED if embed else PAGE
    url_name = "lead_form_embed" if embed else "lead_form"
    context = {"settings_row": row, "embed": embed, "action": reverse(url_name)}
    if request.method == "POST":
        key = f"lead-form:{client_ip(request)}"
        window = settings.LEAD_FORM_RATE_WINDOW
        if not ratelimit.allow(key, limit=settings.LEAD_FORM_RATE_LIMIT, window=window):
            response = render(
                request, template, context | {"page": "limited"}, status=429
            )
            response["Retry-After"] = str(ratelimit.retry_after(window))
            return _headers(response, embed=embed)
        form = forms.LeadForm(request.POST, lead_settings=row)
        verdict = leadform.verdict(request.POST)
        if verdict in (leadform.Verdict.HONEYPOT, leadform.Verdict.REPLAYED):
            # A bot, or a token sent twice (a script, a double click): it sees
            # the same thanks as a person; nothing is written.
            logger.info("lead form %s from %s", verdict.value, client_ip(request))
            return redirect(f"{reverse(url_name)}?merci=1")
        if verdict is leadform.Verdict.TOO_FAST:
            form.add_error(
                None,
                _(
                    "Envoyé un peu trop vite : vérifiez votre saisie, puis envoyez "
                    "de nouveau le formulaire."
                ),
            )
        elif verdict is leadform.Verdict.EXPIRED:
            form.add_error(
                None,
                _("Le formulaire a expiré : envoyez-le de nouveau, s'il vous plaît."),
            )
        elif form.is_valid():
            try:
                leadform.submit_lead(
                    form.cleaned_data, base_url=request.build_absolute_uri("/")
                )
            except leadform.LeadFormClosed as closed:
                raise Http404 from closed
            # Redirect after POST: a reload does not send the lead twice.
            return redirect(f"{reverse(url_name)}?merci=1")
    elif request.GET.get("merci"):
        return _headers(
            render(request, template, context | {"page": "thanks"}), embed=embed
        )
    else:
        form = forms.LeadForm(lead_settings=row)
    context |= {
        "page": "form",
        "form": form,
        "token": leadform.new_token(),
        "honeypot": leadform.HONEYPOT,
        "token_name": leadform.TOKEN,
    }
    return _headers(render(request, template, context), embed=embed)


def _headers(response: HttpResponse, *, embed: bool) -> HttpResponse:
    # A fresh signed timestamp per display: never from a cache.
    response["Cache-Control"] = "no-store"
    if embed:
        # Only this view may be framed, and only by the listed sites.
        response.xframe_options_exempt = True
        response._csp_replace = {
            "frame-ancestors": list(settings.LEAD_FORM_FRAME_ANCESTORS) or [NONE]
        }
    return response


# Exempt from CSRF: the form acts for no logged-in user (there is no session
# to ride), and inside another site's iframe the SameSite CSRF cookie is
# never sent. Spam is kept out by the honeypot, the signed fill time and the
# rate limit instead.
@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def lead_form(request: HttpRequest) -> HttpResponse:
    return _lead_page(request, embed=False)


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def lead_form_embed(request: HttpRequest) -> HttpResponse:
    return _lead_page(request, embed=True)
