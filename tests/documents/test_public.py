"""The client's page /q/<token>/: no login, headers, answers, gone links, limits."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from config import clock
from documents import services
from documents.models import Quote

pytestmark = pytest.mark.django_db


def _url(name: str, token: str) -> str:
    return reverse(f"documents:{name}", args=[token])


def _assert_private(response):
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_page_shows_the_quote_without_login(client, sent):
    quote, token = sent
    response = client.get(_url("quote_public", token))
    assert response.status_code == 200
    _assert_private(response)
    html = response.content.decode().replace("\u202f", " ").replace("\xa0", " ")
    for expected in [
        quote.number,
        "Atelier Bernard Agencement",
        "SIRET 91234567500009",
        "Dépose de l&#x27;existant",
        "Isolation des combles",
        "Total TTC",
        "4 625,00 €",
        "valable jusqu'au",
        "Bon pour accord",
        _url("quote_public_pdf", token),
        "Refuser ce devis",
    ]:
        assert expected in html, expected
    event = AuditEvent.objects.get(action="quote_link_opened")
    assert (event.actor, event.actor_label, event.case) == (None, "client", quote.case)


def test_page_uses_no_external_asset_and_no_script(client, sent):
    _quote, token = sent
    html = client.get(_url("quote_public", token)).content.decode()
    assert "<script" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#", "mailto:")), url


def test_wrong_token_is_404_and_reveals_nothing(client, sent):
    for token in ["x" * 43, "nope", "a" * 200]:
        response = client.get(_url("quote_public", token))
        assert response.status_code == 404
        _assert_private(response)
        html = response.content.decode()
        assert "Atelier Bernard" not in html and "DEV-" not in html
        assert (
            client.post(_url("quote_accept", token), {"name": "X"}).status_code == 404
        )
    assert not AuditEvent.objects.filter(action="quote_link_opened").exists()


def test_pdf_download(client, sent):
    quote, token = sent
    response = client.get(_url("quote_public_pdf", token))
    assert response.status_code == 200
    _assert_private(response)
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    event = AuditEvent.objects.get(action="document_downloaded")
    assert (event.actor_label, event.object_id) == ("client", str(quote.pdf_id))


def test_accept_through_the_page_then_the_link_is_gone(client, sent):
    quote, token = sent
    response = client.post(
        _url("quote_accept", token),
        {"name": "Claire Martin", "approval": "on", "comment": "Merci"},
        HTTP_USER_AGENT="Mozilla/5.0 Page",
        REMOTE_ADDR="203.0.113.50",
    )
    assert response.status_code == 200
    _assert_private(response)
    assert "votre accord est enregistré" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert (quote.accepted_ip, quote.accepted_user_agent) == (
        "203.0.113.50",
        "Mozilla/5.0 Page",
    )
    # Later visits: a clear page, HTTP 410, nothing changes.
    events = AuditEvent.objects.count()
    for name in ("quote_public", "quote_public_pdf"):
        gone = client.get(_url(name, token))
        assert gone.status_code == 410
        assert "déjà été accepté" in gone.content.decode()
    # A second submit is a conflict, and changes nothing either.
    again = client.post(
        _url("quote_accept", token), {"name": "Autre", "approval": "on"}
    )
    assert again.status_code == 410
    assert AuditEvent.objects.count() == events
    quote.refresh_from_db()
    assert quote.accepted_name == "Claire Martin"


def test_accept_needs_the_name_and_the_box(client, sent):
    quote, token = sent
    response = client.post(_url("quote_accept", token), {"name": "Claire Martin"})
    assert response.status_code == 200
    assert "Ce champ est obligatoire" in response.content.decode()
    response = client.post(_url("quote_accept", token), {"approval": "on"})
    assert response.status_code == 200
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_decline_through_the_page(client, sent):
    quote, token = sent
    response = client.post(_url("quote_decline", token), {"reason": "Trop cher"})
    assert response.status_code == 200
    quote.refresh_from_db()
    assert (quote.status, quote.decline_reason) == (Quote.Status.DECLINED, "Trop cher")
    gone = client.get(_url("quote_public", token))
    assert gone.status_code == 410
    assert "refusé" in gone.content.decode()


def test_expired_link_is_gone(client, sent):
    quote, token = sent
    with clock.frozen_at(quote.token_expires_at + timedelta(minutes=1)):
        response = client.get(_url("quote_public", token))
        assert response.status_code == 410
        assert "expiré" in response.content.decode()
        response = client.post(
            _url("quote_accept", token), {"name": "Claire Martin", "approval": "on"}
        )
        assert response.status_code == 410
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_superseded_link_is_gone(client, sent, member):
    quote, token = sent
    revision = services.revise_quote(quote, user=member)
    services.issue_quote(revision, user=member)
    response = client.get(_url("quote_public", token))
    assert response.status_code == 410
    assert "remplacé" in response.content.decode()


def test_rate_limited_per_ip(client, sent, settings):
    _quote, token = sent
    settings.QUOTE_LINK_RATE_LIMIT = 3
    statuses = [
        client.get(_url("quote_public", token), REMOTE_ADDR="198.51.100.1").status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = client.get(_url("quote_public", "unknown"), REMOTE_ADDR="198.51.100.1")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    # Another address is not affected.
    other = client.get(_url("quote_public", token), REMOTE_ADDR="198.51.100.2")
    assert other.status_code == 200


def test_spoofed_forwarded_for_does_not_dodge_the_limit(client, sent, settings):
    _quote, token = sent
    settings.QUOTE_LINK_RATE_LIMIT = 2
    statuses = [
        client.get(
            _url("quote_public", token),
            REMOTE_ADDR="198.51.100.9",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_answers_accept_the_null_origin_that_no_referrer_causes(sent):
    """With Referrer-Policy: no-referrer, browsers post `Origin: null`."""

    quote, token = sent
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        _url("quote_accept", token),
        {"name": "Claire Martin", "approval": "on"},
        HTTP_ORIGIN="null",
    )
    assert response.status_code == 200
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
