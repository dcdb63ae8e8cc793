"""Signed webhooks: signature, events, retries, rollbacks, refused targets.

A real HTTP receiver runs on loopback (127.0.0.1, a free port); loopback is
a private address, so these tests allow private targets and plain http.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from collections import Counter, deque
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from config import clock
from documents import services as document_services
from documents.models import CompanyProfile
from flows.engine import services
from flows.models import Flow, Status, Transition, Webhook, WebhookDelivery
from flows.outbox import webhooks
from tests.documents.conftest import SELLER, make_draft
from tests.factories import CaseFactory
from tests.tasks import run_tasks

State = WebhookDelivery.State


class Receiver:
    """What the loopback server saw, and what it should answer."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: deque[tuple[int, dict]] = deque()
        self.gate: threading.Event | None = None
        self.arrived = threading.Event()
        self.url = ""

    def answer(self, *answers: tuple[int, dict] | int) -> None:
        for answer in answers:
            self.answers.append(answer if isinstance(answer, tuple) else (answer, {}))


@pytest.fixture
def receiver():
    seen = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": body}
            )
            seen.arrived.set()
            if seen.gate is not None:
                seen.gate.wait(10)
            status, headers = seen.answers.popleft() if seen.answers else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"done")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/pilote"
    yield seen
    if seen.gate is not None:
        seen.gate.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_DISPATCH = "inline"
    settings.WEBHOOK_TIMEOUT = 2


def make_hook(url: str, events=None, **fields) -> Webhook:
    hook = Webhook(
        name=fields.pop("name", "CRM"),
        url=url,
        events=list(events or Webhook.Event.values),
        **fields,
    )
    hook.full_clean()
    hook.save()
    return hook


def public_dns(address: str = "93.184.216.34"):
    """getaddrinfo answering `address` for every name but numeric ones."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    return mock.patch("socket.getaddrinfo", side_effect=getaddrinfo)


# --- Signature and events -------------------------------------------------------


@pytest.mark.django_db
def test_signature_verifiable_by_the_receiver(
    loopback, receiver, default_flow, member, django_capture_on_commit_callbacks
):
    hook = make_hook(receiver.url, ["case.created"])
    with django_capture_on_commit_callbacks(execute=True):
        case = CaseFactory(flow=default_flow, owner=member, company="Café Noël")

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/pilote"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Pilote-Event"] == "case.created"
    timestamp = headers["X-Pilote-Timestamp"]
    assert abs(time.time() - int(timestamp)) < 60
    # What any receiver does, with nothing but the shared secret:
    expected = hmac.new(
        hook.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Pilote-Signature"] == f"sha256={expected}"
    assert webhooks.verify(hook.secret, timestamp, body, headers["X-Pilote-Signature"])
    assert not webhooks.verify("other", timestamp, body, headers["X-Pilote-Signature"])
    assert not webhooks.verify(
        hook.secret, timestamp, body + b" ", headers["X-Pilote-Signature"]
    )

    payload = json.loads(body)
    assert payload["event"] == "case.created"
    assert payload["id"] == headers["X-Pilote-Delivery"]
    data = payload["data"]["case"]
    assert data["reference"] == case.reference and data["company"] == "Café Noël"
    assert data["status"] == {
        "code": "nouveau",
        "label": "Nouveau lead",
        "kind": "open",
    }
    assert data["owner"] == "louis"

    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        State.DELIVERED,
        1,
        200,
    )
    assert delivery.last_duration_ms is not None and delivery.last_error == ""


@pytest.fixture
def tricky_flow(db, manager):
    """Won and lost statuses whose codes say the opposite of their kinds."""
    flow = Flow.objects.create(name="Piège", slug="piege", require_next_action=False)
    start = Status.objects.create(flow=flow, position=1, code="debut", label="Début")
    won = Status.objects.create(
        flow=flow, position=2, code="perdu", label="Conclu", kind=Status.Kind.WON
    )
    lost = Status.objects.create(
        flow=flow, position=3, code="signe", label="Abandonné", kind=Status.Kind.LOST
    )
    for target in (won, lost):
        Transition.objects.create(
            flow=flow,
            source=start,
            target=target,
            label="Clore",
            enforce_checklist=False,
        )
    return flow


@pytest.mark.django_db
def test_won_and_lost_come_from_the_status_kind_never_its_code(
    loopback, receiver, tricky_flow, manager, django_capture_on_commit_callbacks
):
    make_hook(receiver.url, ["case.moved", "case.won", "case.lost"])
    won = services.create_case(flow=tricky_flow, user=manager, owner=manager, title="A")
    lost = services.create_case(
        flow=tricky_flow, user=manager, owner=manager, title="B"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.move_case(won, "perdu", user=manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.move_case(lost, "signe", user=manager, reason="Trop cher")

    events = [
        (r["headers"]["X-Pilote-Event"], json.loads(r["body"])["data"]["case"]["title"])
        for r in receiver.requests
    ]
    assert events == [
        ("case.moved", "A"),
        ("case.won", "A"),
        ("case.moved", "B"),
        ("case.lost", "B"),
    ]
    moved = json.loads(receiver.requests[2]["body"])["data"]
    assert moved["from"]["code"] == "debut" and moved["to"]["kind"] == "lost"
    assert (moved["by"], moved["reason"]) == ("manon", "Trop cher")


@pytest.mark.django_db
def test_only_active_webhooks_and_chosen_events(
    loopback, receiver, default_flow, member, django_capture_on_commit_callbacks
):
    make_hook(receiver.url, ["case.won"])
    make_hook(receiver.url, ["case.created"], name="Off", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        CaseFactory(flow=default_flow, owner=member)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


@pytest.fixture
def sent_quote(default_flow, member, mailoutbox):
    """(quote, token): an issued quote e-mailed to the client."""

    document_services.ensure_default_categories()
    profile = CompanyProfile.load()
    for name, value in SELLER.items():
        setattr(profile, name, value)
    profile.save()
    case = CaseFactory(flow=default_flow, owner=member, company="Boulangerie Martin")
    issued = document_services.issue_quote(make_draft(case, member), user=member)
    token = document_services.send_quote(
        issued, user=member, base_url="http://testserver/"
    )
    issued.refresh_from_db()
    return issued, token


@pytest.mark.django_db
def test_quote_accepted_is_sent(
    loopback, receiver, sent_quote, django_capture_on_commit_callbacks
):

    quote, token = sent_quote
    make_hook(receiver.url, ["quote.accepted"])
    with django_capture_on_commit_callbacks(execute=True):
        document_services.accept_quote(
            token, name="Claire Martin", ip="203.0.113.5", user_agent="test"
        )
    [request] = receiver.requests
    payload = json.loads(request["body"])
    assert payload["event"] == "quote.accepted"
    assert payload["data"]["quote"]["number"] == quote.number
    assert payload["data"]["quote"]["accepted_name"] == "Claire Martin"
    assert payload["data"]["case"]["reference"] == quote.case.reference


# --- Retries -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_500_is_retried_with_backoff(
    loopback, receiver, settings, default_flow, member
):
    settings.WEBHOOK_DISPATCH = "cron"
    make_hook(receiver.url, ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    receiver.answer(500, 200)

    start = clock.now()
    with clock.frozen_at(start):
        assert webhooks.deliver_due()["failed"] == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        State.PENDING,
        1,
        500,
    )
    assert delivery.last_error == "HTTP 500 : done"
    assert delivery.next_attempt_at == start + timedelta(minutes=1)

    # Not due yet: nothing is sent.
    with clock.frozen_at(start + timedelta(seconds=30)):
        assert sum(webhooks.deliver_due().values()) == 0
    assert len(receiver.requests) == 1

    with clock.frozen_at(start + timedelta(minutes=2)):
        out = StringIO()
        call_command("deliver_webhooks", stdout=out)
    assert "1 delivered" in out.getvalue()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        State.DELIVERED,
        2,
        200,
    )
    # The same body and event id; a fresh timestamp and signature.
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert (
        first["headers"]["X-Pilote-Delivery"] == second["headers"]["X-Pilote-Delivery"]
    )


def test_backoff_grows_exponentially_up_to_a_day():
    assert [webhooks.backoff(n).total_seconds() for n in range(1, 8)] == [
        60,
        300,
        1500,
        7500,
        37500,
        86400,
        86400,
    ]


@pytest.mark.django_db
def test_a_delivery_is_given_up_after_the_last_attempt(
    loopback, receiver, settings, default_flow, member
):
    settings.WEBHOOK_DISPATCH = "cron"
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    make_hook(receiver.url, ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    receiver.answer(500, 502, 503, 200)
    moment = clock.now()
    for _ in range(5):
        with clock.frozen_at(moment):
            webhooks.deliver_due()
        moment += timedelta(days=1)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        State.FAILED,
        3,
        503,
    )
    assert len(receiver.requests) == 3
    # The admin's "send again" makes it due at once.
    assert webhooks.retry_now(WebhookDelivery.objects.all()) == 1
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED


@pytest.mark.django_db
def test_a_failing_receiver_postpones_its_other_deliveries_not_the_others(
    loopback, receiver, settings, default_flow, member
):
    settings.WEBHOOK_DISPATCH = "cron"
    # The dead receiver refuses connections: a closed loopback port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    dead = make_hook(f"http://127.0.0.1:{closed_port}/", ["case.created"], name="Dead")
    alive = make_hook(receiver.url, ["case.created"], name="Alive")
    for _ in range(3):
        CaseFactory(flow=default_flow, owner=member)
    counts = webhooks.deliver_due()
    assert counts == {"delivered": 3, "failed": 1, "postponed": 2}
    assert (
        WebhookDelivery.objects.filter(webhook=alive, state=State.DELIVERED).count()
        == 3
    )
    failed = WebhookDelivery.objects.filter(webhook=dead, attempts=1).get()
    assert "ConnectionRefusedError" in failed.last_error
    assert WebhookDelivery.objects.filter(webhook=dead, attempts=0).count() == 2


@pytest.mark.django_db
def test_a_slow_receiver_times_out(loopback, receiver, settings, default_flow, member):
    settings.WEBHOOK_DISPATCH = "cron"
    settings.WEBHOOK_TIMEOUT = 1
    receiver.gate = threading.Event()  # never answers within the timeout
    make_hook(receiver.url, ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    assert webhooks.deliver_due()["failed"] == 1
    delivery = WebhookDelivery.objects.get()
    assert "timed out" in delivery.last_error.lower()
    assert delivery.last_status_code is None and delivery.state == State.PENDING


@pytest.mark.django_db
def test_redirects_are_not_followed(loopback, receiver, settings, default_flow, member):
    settings.WEBHOOK_DISPATCH = "cron"
    make_hook(receiver.url, ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    receiver.answer((302, {"Location": "http://169.254.169.254/latest/meta-data"}))
    webhooks.deliver_due()
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 302 and delivery.state == State.PENDING


class Drip:
    """A receiver that answers one byte every 0.2 s: slow, never silent."""

    def __init__(self):
        self.requests = 0
        self.arrived = threading.Event()
        self.stop = threading.Event()
        self.url = ""


@pytest.fixture
def drip():
    seen = Drip()
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Slow: " + b"z" * 200

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.requests += 1
            seen.arrived.set()
            for byte in answer:  # about 45 s in all: far past any deadline
                if seen.stop.wait(0.2):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return  # the sender gave up and closed

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/pilote"
    yield seen
    seen.stop.set()
    server.shutdown()
    server.server_close()


def test_an_attempt_never_outlasts_the_lease(settings):
    """Whatever WEBHOOK_TIMEOUT says, an attempt ends well before its claim."""
    settings.WEBHOOK_TIMEOUT = 600
    assert webhooks.attempt_seconds() < webhooks.LEASE.total_seconds()
    settings.WEBHOOK_TIMEOUT = 5
    assert webhooks.attempt_seconds() == 5


@pytest.mark.django_db(transaction=True)
def test_a_dripping_receiver_is_cut_at_the_deadline(
    loopback, drip, settings, default_flow, member
):
    """The whole attempt has one deadline; a concurrent run does not resend."""
    settings.WEBHOOK_DISPATCH = "cron"
    settings.WEBHOOK_TIMEOUT = 1
    make_hook(drip.url, ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    delivery = WebhookDelivery.objects.get()
    counts = {}

    def first_run():
        try:
            counts["first"] = webhooks.deliver([delivery.pk])
        finally:
            connection.close()

    started = time.monotonic()
    sender = threading.Thread(target=first_run)
    sender.start()
    assert drip.arrived.wait(5)
    # While the first attempt waits on the receiver, a second run (cron, or
    # the after-commit thread) finds the delivery claimed and leaves it.
    assert webhooks.deliver([delivery.pk]) == Counter()
    sender.join(30)
    elapsed = time.monotonic() - started
    assert counts["first"] == Counter(failed=1)
    assert drip.requests == 1
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING and delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("TimeoutError: timed out")
    # A correctness bound, not a speed target: the claim was still held.
    assert elapsed < webhooks.LEASE.total_seconds()


# --- From a task, never in the request ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_no_delivery_for_a_rolled_back_change(
    loopback, receiver, settings, default_flow, member
):
    settings.WEBHOOK_DISPATCH = "task"
    make_hook(receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        case = CaseFactory(flow=default_flow, owner=member)
        services.move_case(case, "perdu", user=member, reason="Erreur")
        assert WebhookDelivery.objects.count() == 3  # queued inside...
        assert DBTaskResult.objects.count() == 2  # ...with their tasks...
        raise RuntimeError("the business transaction fails")
    assert WebhookDelivery.objects.count() == 0  # ...and gone with them
    assert DBTaskResult.objects.count() == 0
    assert run_tasks() == 0
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_the_request_never_contacts_the_receiver_a_worker_does(
    loopback, receiver, settings, client, default_flow, member
):
    settings.WEBHOOK_DISPATCH = "task"
    make_hook(receiver.url, ["case.moved"])
    case = CaseFactory(flow=default_flow, owner=member)
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {"target": "perdu", "expected_status": "nouveau", "reason": "Budget"},
    )
    assert response.status_code in (200, 302)
    # Committed with its task; nothing was sent by the web process.
    assert WebhookDelivery.objects.get().state == State.PENDING
    assert receiver.requests == []
    assert run_tasks() == 1
    assert WebhookDelivery.objects.get().state == State.DELIVERED
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_enqueues_the_next_for_the_end_of_its_backoff(
    loopback, receiver, settings, default_flow, member
):
    settings.WEBHOOK_DISPATCH = "task"
    receiver.answers = deque([(500, {})])
    make_hook(receiver.url, ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    assert run_tasks() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.PENDING and delivery.attempts == 1
    retry = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert retry.run_after == delivery.next_attempt_at
    # Due: the worker sends it; the receiver answers 200 this time.
    WebhookDelivery.objects.update(next_attempt_at=clock.now())
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=clock.now())
    assert run_tasks() == 1
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and delivery.attempts == 2


# --- Targets ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://crm.example.com/hook", "https://"),
        ("ftp://crm.example.com/hook", "https://"),
        ("https://127.0.0.1/hook", "privée"),
        ("https://localhost:8443/hook", "privée"),
        ("https://10.1.2.3/hook", "privée"),
        ("https://192.168.1.10/hook", "privée"),
        ("https://172.16.0.1/hook", "privée"),
        ("https://100.64.0.1/hook", "privée"),
        ("https://169.254.169.254/latest/meta-data", "privée"),
        ("https://0.0.0.0/hook", "privée"),
        ("https://[::1]/hook", "privée"),
        ("https://[fd00::1]/hook", "privée"),
        ("https://[::ffff:127.0.0.1]/hook", "privée"),
        ("https://user:secret@crm.example.com/hook", "identifiants"),
    ],
)
def test_disallowed_targets_are_refused(settings, url, message):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(ValidationError) as refused:
        make_hook(url)
    assert message in " ".join(refused.value.messages)


@pytest.mark.django_db
def test_a_name_resolving_to_a_private_address_is_refused(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with public_dns("10.0.0.7"), pytest.raises(ValidationError, match="privée"):
        make_hook("https://intranet.example.com/hook")


@pytest.mark.django_db
def test_a_public_https_target_is_accepted(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with public_dns():
        hook = make_hook("https://crm.example.com/hook")
    assert hook.pk and len(hook.secret) >= 40


@pytest.mark.django_db
def test_dns_rebinding_is_caught_at_send_time(receiver, settings, default_flow, member):
    """Public when saved, loopback when sent: refused, nothing reaches it."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOK_DISPATCH = "cron"
    port = receiver.url.split(":")[2].split("/")[0]
    with public_dns():
        make_hook(f"http://hooks.example.com:{port}/hook", ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    with public_dns("127.0.0.1"):
        assert webhooks.deliver_due()["failed"] == 1
    delivery = WebhookDelivery.objects.get()
    assert "privée" in delivery.last_error
    assert receiver.requests == []


@pytest.mark.django_db
def test_the_connection_goes_to_the_checked_address(
    receiver, settings, default_flow, member
):
    """The name is resolved once, checked, and that address is dialled."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_DISPATCH = "cron"
    port = receiver.url.split(":")[2].split("/")[0]
    with public_dns("127.0.0.1"):
        make_hook(f"http://hooks.example.com:{port}/in", ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    with public_dns("127.0.0.1") as resolver:
        assert webhooks.deliver_due()["delivered"] == 1
    names = [call.args[0] for call in resolver.call_args_list]
    assert names.count("hooks.example.com") == 1  # then 127.0.0.1 is dialled
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.example.com:{port}"


# --- Admin -------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_shows_the_delivery_log_of_a_webhook(
    loopback, receiver, settings, client, admin_user, default_flow, member
):
    settings.WEBHOOK_DISPATCH = "cron"
    hook = make_hook(receiver.url, ["case.created"])
    CaseFactory(flow=default_flow, owner=member)
    receiver.answer(500)
    webhooks.deliver_due()
    client.force_login(admin_user)
    html = client.get(reverse("admin:flows_webhook_change", args=[hook.pk])).content
    html = html.decode()
    assert "case.created" in html and "HTTP 500" in html and "500" in html
    log = client.get(
        reverse("admin:flows_webhookdelivery_changelist"),
        {"webhook__id__exact": hook.pk},
    )
    assert log.status_code == 200 and "HTTP 500" in log.content.decode()


@pytest.mark.django_db
def test_admin_creates_a_webhook_with_its_events(client, admin_user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client.force_login(admin_user)
    with public_dns():
        response = client.post(
            reverse("admin:flows_webhook_add"),
            {
                "name": "Compta",
                "url": "https://compta.example.com/in",
                "secret": "s3cret-s3cret-s3cret",
                "events": ["case.won", "quote.accepted"],
                "is_active": "on",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    hook = Webhook.objects.get()
    assert hook.events == ["case.won", "quote.accepted"]
    refused = client.post(
        reverse("admin:flows_webhook_add"),
        {
            "name": "Interne",
            "url": "https://127.0.0.1/in",
            "secret": "x" * 20,
            "events": ["case.won"],
        },
    )
    assert refused.status_code == 200
    assert "privée" in refused.content.decode()
