"""Log lines that name their request and user; the request id itself.

Each request gets an id: the trusted proxy's `X-Request-ID` when there is a
proxy and the value is sane, else a fresh one. It is sent back in the
`X-Request-ID` response header, written on every log line the request
emits (`RequestContextFilter`, on the console handler) and stored on its
audit events (`audit.services.record` reads `current_request_id`).

In production each line is one JSON object (`JsonFormatter`); with
`LOG_FORMAT=text` (the default with DEBUG) it reads as plain text. The
settings wire both (LOGGING in config/settings.py).
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.log import log_response
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from config.http import is_probe

HEADER = "X-Request-ID"
# What a proxy's id may look like: enough for a UUID, a trace id or
# nginx's $request_id, nothing that could break a log line or a header.
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)

_request_id: ContextVar[str] = ContextVar("pilote_request_id", default="")
_user_id: ContextVar[int | None] = ContextVar("pilote_user_id", default=None)


def current_request_id() -> str:
    """The id of the request being served; "" outside a request."""
    return _request_id.get()


def incoming_request_id(request: HttpRequest) -> str | None:
    """The proxy's X-Request-ID, when a trusted proxy is in front and the
    value is sane. Without a proxy the header is the client's own text."""
    if settings.TRUSTED_PROXY_COUNT <= 0:
        return None
    value = request.headers.get(HEADER, "")
    return value if _SANE_ID.fullmatch(value) else None


class RequestIdMiddleware:
    """First in MIDDLEWARE: every response carries the id, a 400 or a 500
    too, and every log line of the request names it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request) or uuid.uuid4().hex
        request.request_id = request_id
        id_token = _request_id.set(request_id)
        user_token = _user_id.set(None)
        try:
            response = self.get_response(request)
            if response.status_code >= 400:
                # Django logs a 4xx or 5xx answer after the whole chain has
                # returned, out of this context; the same line logged here
                # (log_response marks it, so Django skips it) keeps the id.
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
        finally:
            _request_id.reset(id_token)
            _user_id.reset(user_token)
        response[HEADER] = request_id
        return response


class LogUserMiddleware:
    """After authentication: the signed-in user's id on the request's lines.

    Set before the view runs, so its own lines carry it. Health probes are
    left alone: reading the user may read the session from the database.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if not is_probe(request) and user is not None and user.is_authenticated:
            _user_id.set(user.pk)
        return self.get_response(request)


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `user_id` to every record, `placeholder` when
    there is none (outside a request, an anonymous visitor)."""

    def __init__(self, name: str = "", placeholder: str | None = None):
        super().__init__(name)
        self.placeholder = placeholder

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or self.placeholder
        user_id = _user_id.get()
        record.user_id = user_id if user_id is not None else self.placeholder
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger,
    message, request_id, user_id, then exc_info and any `extra` fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "fmt", ["levelname", "name", "message", "request_id", "user_id"]
        )
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        # django.request and django.server pass the request (or the socket)
        # as `extra`: its repr is noise, the message already names the path.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data, record, message_dict) -> None:
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        log_data["time"] = moment.isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
