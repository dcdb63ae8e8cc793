"""Simultaneous issues get consecutive numbers; simultaneous acceptances, one winner.

Runs on both databases: PostgreSQL serialises on the counter's row lock and
the conditional UPDATE, SQLite on its single writer (IMMEDIATE transactions).
"""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from documents import services
from documents.models import Document, Quote
from tests.documents.conftest import make_draft
from tests.factories import CaseFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_issues_get_consecutive_numbers(case, member, company):
    # One open draft per case: four cases, one draft each.
    cases = [case] + [
        CaseFactory(flow=case.flow, owner=member, company=f"Client {n}")
        for n in range(3)
    ]
    drafts = [make_draft(each, member) for each in cases]

    def issue(index: int) -> str:
        quote = Quote.objects.get(pk=drafts[index].pk)
        return services.issue_quote(quote, user=member).number

    results = run_in_threads(len(drafts), issue)
    year = timezone.localdate().year
    assert sorted(results) == [f"DEV-{year}-{n:04d}" for n in range(1, 5)], results
    assert Document.objects.filter(category__code="devis").count() == 4


def test_two_simultaneous_acceptances_record_exactly_one(sent, mailoutbox):
    quote, token = sent

    def accept(index: int):
        return services.accept_quote(
            token, name=f"Signataire {index}", ip=f"203.0.113.{index}", user_agent=""
        )

    results = run_in_threads(2, accept)
    wins = [r for r in results if isinstance(r, services.Answer)]
    losses = [r for r in results if isinstance(r, services.QuoteLinkGone)]
    assert len(wins) == 1, results
    assert len(losses) == 1 and losses[0].state == "accepted", results
    quote.refresh_from_db()
    assert quote.accepted_name == wins[0].quote.accepted_name
    assert AuditEvent.objects.filter(action="quote_accepted").count() == 1
    assert Document.objects.filter(category__code="contrat").count() == 1
