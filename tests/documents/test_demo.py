"""Demo documents and quotes: every state, made through the services."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from documents.models import CompanyProfile, Document, Quote

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_documents_and_quotes_in_every_state(settings, mailoutbox):
    settings.DEBUG = True
    call_command("seed_demo")
    profile = CompanyProfile.load()
    assert profile.legal_name and profile.siret and profile.logo
    quotes = list(Quote.objects.all())
    states = {quote.state() for quote in quotes}
    assert {
        "draft",
        "issued",
        "sent",
        "accepted",
        "declined",
        "expired",
        "superseded",
    } <= states
    rates = set(
        Quote.objects.filter(status=Quote.Status.SENT).values_list(
            "lines__vat_rate", flat=True
        )
    )
    assert {Decimal("20"), Decimal("10"), Decimal("5.5")} <= rates
    accepted = Quote.objects.get(status=Quote.Status.ACCEPTED)
    assert accepted.signed_document.category.code == "contrat"
    assert accepted.case.status == "signe"
    assert accepted.accepted_pdf_sha256 == accepted.pdf.sha256
    assert Document.objects.filter(origin="upload", version=2).exists()
    assert Document.objects.filter(content_type="image/png").exists()
    # Demo e-mails are discarded, never sent.
    assert mailoutbox == []
    # Idempotent.
    count = Quote.objects.count()
    call_command("seed_demo")
    assert Quote.objects.count() == count
