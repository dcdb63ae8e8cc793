"""Fixtures for documents and quotes: a complete company profile, a case, quotes."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from documents import services
from documents.models import CompanyProfile
from tests.factories import CaseFactory
from tests.tasks import run_tasks

SELLER = {
    "legal_name": "Atelier Bernard Agencement",
    "legal_form": "SAS",
    "address": "12 rue des Artisans\n69007 Lyon",
    "siret": "91234567500009",
    "rcs": "RCS Lyon 912 345 675",
    "vat_applies": True,
    "vat_number": "FR65912345675",
    "share_capital": Decimal("20000"),
    "email": "contact@atelier-bernard.example",
    "phone": "04 72 00 00 00",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The public pages' rate limiter counts in the cache: start each test at 0."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def categories(db):
    services.ensure_default_categories()


@pytest.fixture
def company(db):
    profile = CompanyProfile.load()
    for name, value in SELLER.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    return profile


@pytest.fixture
def case(default_flow, member, categories):
    return CaseFactory(
        flow=default_flow,
        owner=member,
        title="Rénovation de la boutique",
        company="Boulangerie Martin",
        contact_name="Claire Martin",
        email="claire@boulangerie.example",
    )


LINES = [
    services.LineData(
        "Dépose de l'existant",
        Decimal("1"),
        "forfait",
        Decimal("850.00"),
        Decimal("20"),
    ),
    services.LineData(
        "Peinture des murs", Decimal("68"), "m²", Decimal("24.50"), Decimal("10")
    ),
    services.LineData(
        "Isolation des combles", Decimal("35"), "m²", Decimal("48.00"), Decimal("5.5")
    ),
]


def make_draft(case, user, *, lines=None, **fields):
    quote = services.create_quote(case, user=user)
    fields.setdefault("client_address", "3 rue Mercière\n69002 Lyon")
    return services.save_draft(
        quote, user=user, fields=fields, lines=LINES if lines is None else lines
    )


@pytest.fixture
def draft(case, member, company):
    return make_draft(case, member)


@pytest.fixture
def issued(draft, member):
    return services.issue_quote(draft, user=member)


@pytest.fixture
def sent(issued, member, mailoutbox):
    """(quote, token): an issued quote sent to the client."""
    token = services.send_quote(issued, user=member, base_url="http://testserver/")
    run_tasks()  # the e-mail leaves from a task
    issued.refresh_from_db()
    return issued, token
