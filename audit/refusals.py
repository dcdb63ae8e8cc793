"""Refusals, each recorded once in the audit trail (action `permission_denied`).

Two kinds of refusal reach a user: a 403 (`PermissionDenied`) and a 404 for
an object that exists but lies outside what the request may reach (a quote
of another case, another manager's import): `ForeignObject`. Both are
recorded by `RefusalAuditMiddleware` when a view raises them. A service that
refuses outside any request (a command, a test) records its refusal itself
with `record_refusal` before raising; the exception then carries a mark, so
the middleware never records it twice.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from audit import services

_RECORDED = "_pilote_refusal_recorded"


class AccessRefused(PermissionDenied):
    """A 403 with what was refused (`case`, and data such as the action)."""

    def __init__(self, message="", *, case=None, **data):
        super().__init__(message)
        self.case = case
        self.data = data


class ForeignObject(Http404):
    """A 404 for an object outside the case or the user's reach: audited."""

    def __init__(self, message="", *, case=None, **data):
        super().__init__(message)
        self.case = case
        self.data = data


def is_recorded(error: Exception) -> bool:
    return bool(getattr(error, _RECORDED, False))


def record_refusal(error: Exception, *, user, path: str = "") -> None:
    """Record `error` as a `permission_denied` event, once."""
    if is_recorded(error):
        return
    data = dict(getattr(error, "data", {}))
    if path:
        data["path"] = path[:200]
    if isinstance(error, Http404):
        data["answered"] = 404
    services.record(
        "permission_denied",
        user=user if user is not None and user.is_authenticated else None,
        case=getattr(error, "case", None),
        data=data,
    )
    setattr(error, _RECORDED, True)


class RefusalAuditMiddleware:
    """Record every refusal a view raises (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied | ForeignObject):
            record_refusal(
                exception, user=getattr(request, "user", None), path=request.path
            )


def not_found(model, *, case=None, **lookup) -> Http404:
    """The 404 for the `model` row matching `lookup`, outside the request's reach.

    A row that exists elsewhere is a refusal worth recording (someone tried
    an id that is not theirs): `ForeignObject`, with the row's id. A row that does not exist
    is an ordinary 404.
    """
    pk = model._default_manager.filter(**lookup).values_list("pk", flat=True).first()
    if pk is not None:
        return ForeignObject(case=case, object=model._meta.label_lower, id=pk)
    return Http404()
