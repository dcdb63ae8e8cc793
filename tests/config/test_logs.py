"""Log lines as JSON with their request and user; the request id end to end."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import verify_chain
from config.logs import RequestContextFilter
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_lines():
    """The lines `django.request` writes through the configured console
    handler's formatter and filter, one string each."""
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestContextFilter) for f in handler.filters)
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(console.formatter)
    for log_filter in console.filters:
        handler.addFilter(log_filter)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lambda: stream.getvalue().splitlines()
    logger.removeHandler(handler)


def test_a_log_line_of_a_request_is_json_with_its_request_and_user(
    client, member, log_lines
):
    client.force_login(member)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    [line] = log_lines()
    record = json.loads(line)
    assert list(record)[:6] == [
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "user_id",
    ]
    assert record["level"] == "WARNING"
    assert record["logger"] == "django.request"
    assert record["message"] == "Not Found: /no-such-page/"
    assert record["request_id"] == response["X-Request-ID"]
    assert record["user_id"] == member.pk
    assert record["status_code"] == 404
    # The request object Django passes along is left out; the time is UTC.
    assert "request" not in record
    assert record["time"].endswith("+00:00")


def test_an_anonymous_line_says_null_for_the_user(client, log_lines):
    response = client.post(reverse("login"), {"username": "x\x00"})
    assert response.status_code == 400
    record = json.loads(log_lines()[0])
    assert record["user_id"] is None
    assert record["request_id"] == response["X-Request-ID"]


def test_a_line_with_an_exception_carries_its_traceback():
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestContextFilter) for f in handler.filters)
    )
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("pilote.test").makeRecord(
            "pilote.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    for log_filter in console.filters:
        log_filter.filter(record)
    line = json.loads(console.formatter.format(record))
    assert "ValueError: boom" in line["exc_info"]
    # Outside a request: no id, no user.
    assert line["request_id"] is None
    assert line["user_id"] is None


def test_a_request_id_is_generated_when_none_is_sent(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


def test_without_a_trusted_proxy_the_clients_id_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-client"})
    assert GENERATED.fullmatch(response["X-Request-ID"])


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("7f3c2a9e-1b4d-4c1e-9a7b-0d2e6f1a3b5c", True),
        ("nginx.req_42", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("a b", False),
        ("id\r\nSet-Cookie: x=1", False),
        ("é", False),
        ("", False),
    ],
)
def test_behind_a_trusted_proxy_a_sane_id_is_kept(client, settings, sent, kept):
    settings.TRUSTED_PROXY_COUNT = 1
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    if kept:
        assert response["X-Request-ID"] == sent
    else:
        assert GENERATED.fullmatch(response["X-Request-ID"])


def test_an_error_response_carries_the_id_too(client, settings):
    settings.ALLOWED_HOSTS = ["pilote.example.com"]
    client.raise_request_exception = False
    response = client.get("/healthz", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_the_login_event_stores_the_request_id_of_its_response(client, member):
    response = client.post(
        reverse("login"), {"username": "louis", "password": PASSWORD}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="login")
    assert event.request_id == response["X-Request-ID"]
    assert verify_chain().ok


def test_the_proxys_id_reaches_the_audit_event(client, member, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        reverse("login"),
        {"username": "louis", "password": PASSWORD},
        HTTP_X_REQUEST_ID="edge-4242",
    )
    assert AuditEvent.objects.get(action="login").request_id == "edge-4242"


def _log_format(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "LOG_FORMAT"}}
    script = (
        "import config.settings as s; "
        "print(s.LOG_FORMAT, s.LOGGING['handlers']['console']['formatter'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return (result.stdout + result.stderr).strip()


def test_log_format_is_json_unless_debug_or_chosen():
    assert _log_format() == "json json"
    assert _log_format(DEBUG="1") == "text text"
    assert _log_format(DEBUG="1", LOG_FORMAT="json") == "json json"
    assert _log_format(LOG_FORMAT="text") == "text text"
    assert "LOG_FORMAT must be" in _log_format(LOG_FORMAT="xml")


def test_a_text_line_reads_plainly_with_dashes_for_what_is_missing(settings):
    formatter = logging.Formatter(settings.LOGGING["formatters"]["text"]["format"])
    record = logging.getLogger("pilote.test").makeRecord(
        "pilote.test", logging.INFO, __file__, 1, "hello %s", ("world",), None
    )
    RequestContextFilter(placeholder="-").filter(record)
    line = formatter.format(record)
    assert line.endswith(" INFO pilote.test [- user=-] hello world")
