"""The public quote page: the client reads, downloads, accepts or declines.

No login but a valid link, rate-limited per IP address.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from config import ratelimit
from config.forms import add_service_errors
from config.http import client_ip
from documents import forms, responses, selectors, services
from documents.models import Quote

PUBLIC = "documents/public_quote.html"


def _public(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: never sent on as a referrer, never cached.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _public_page(request, context: dict, *, status: int = 200) -> HttpResponse:
    return _public(render(request, PUBLIC, context, status=status))


def _limited(request) -> HttpResponse | None:
    if ratelimit.allow(f"quote-link:{client_ip(request)}"):
        return None
    response = _public_page(request, {"page": "limited"}, status=429)
    response["Retry-After"] = str(ratelimit.retry_after())
    return response


def _gone(request, quote: Quote, state: str, *, status: int = 410) -> HttpResponse:
    return _public_page(
        request, {"page": "gone", "state": state, "quote": quote}, status=status
    )


def _not_found(request) -> HttpResponse:
    return _public_page(request, {"page": "not_found"}, status=404)


def _open_quote(request, token: str) -> tuple[Quote | None, HttpResponse | None]:
    limited = _limited(request)
    if limited:
        return None, limited
    quote = selectors.quote_for_token(token)
    if quote is None:
        return None, _not_found(request)
    state = selectors.link_state(quote)
    if state != "open":
        return None, _gone(request, quote, state)
    return quote, None


def _quote_page(request, quote: Quote, token: str, **forms_) -> dict:
    return {
        "page": "quote",
        "token": token,
        "accept_form": forms_.get("accept_form") or forms.AcceptForm(),
        "decline_form": forms_.get("decline_form") or forms.DeclineForm(),
    } | selectors.quote_document(quote)


@login_not_required
@require_GET
def quote_public(request, token: str) -> HttpResponse:
    quote, refused = _open_quote(request, token)
    if refused:
        return refused
    services.record_link_opened(quote)
    return _public_page(request, _quote_page(request, quote, token))


@login_not_required
@require_GET
def quote_public_pdf(request, token: str) -> HttpResponse:
    quote, refused = _open_quote(request, token)
    if refused:
        return refused
    response = _public(responses.file_response(quote.pdf))
    services.record_public_download(quote)
    return response


def _answer_refused(request, token: str, gone: services.QuoteLinkGone):
    if gone.state == "unknown":
        return _not_found(request)
    quote = selectors.quote_for_token(token)
    # A double submit (or a race lost to another answer) is a conflict.
    return _gone(request, quote, gone.state, status=409)


# The answers are exempt from CSRF checks: the unguessable token in the path
# is the credential, which a cross-site attacker cannot know, and with
# `Referrer-Policy: no-referrer` browsers post `Origin: null`, which Django's
# CSRF check refuses.
@csrf_exempt
@login_not_required
@require_POST
def quote_accept(request, token: str) -> HttpResponse:
    quote, refused = _open_quote(request, token)
    if refused:
        return refused
    form = forms.AcceptForm(request.POST)
    if not form.is_valid():
        return _public_page(
            request, _quote_page(request, quote, token, accept_form=form)
        )
    try:
        answer = services.accept_quote(
            token,
            name=form.cleaned_data["name"],
            ip=client_ip(request) or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            comment=form.cleaned_data["comment"],
            base_url=request.build_absolute_uri("/"),
        )
    except services.QuoteLinkGone as gone:
        return _answer_refused(request, token, gone)
    except ValidationError as error:
        add_service_errors(form, error)
        return _public_page(
            request, _quote_page(request, quote, token, accept_form=form)
        )
    return _public_page(request, {"page": "accepted", "quote": answer.quote})


@csrf_exempt
@login_not_required
@require_POST
def quote_decline(request, token: str) -> HttpResponse:
    quote, refused = _open_quote(request, token)
    if refused:
        return refused
    form = forms.DeclineForm(request.POST)
    if not form.is_valid():
        return _public_page(
            request, _quote_page(request, quote, token, decline_form=form)
        )
    try:
        answer = services.decline_quote(
            token,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request) or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            base_url=request.build_absolute_uri("/"),
        )
    except services.QuoteLinkGone as gone:
        return _answer_refused(request, token, gone)
    except ValidationError as error:
        add_service_errors(form, error)
        return _public_page(
            request, _quote_page(request, quote, token, decline_form=form)
        )
    return _public_page(request, {"page": "declined", "quote": answer.quote})
