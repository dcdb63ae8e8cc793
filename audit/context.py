"""Who is acting, from where: set per request, read by audit.services.record."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from config.http import client_ip


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    user_agent: str


_current: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(context_from_request(request))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


def context_from_request(request: HttpRequest) -> RequestContext:
    return RequestContext(
        ip=client_ip(request) or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def set_for_request(request: HttpRequest):
    return _current.set(context_from_request(request))


def reset(token) -> None:
    _current.reset(token)
