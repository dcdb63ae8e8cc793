"""Once one version of a quote number is accepted, no other version moves on.

Finding 1 of the reliability issue: v1 sent, v2 drafted, the client accepts
v1, then v2 was issued, sent and accepted: two accepted versions of one
number.
"""

import pytest
from django.utils import translation

from audit.models import AuditEvent
from documents import services
from documents.models import Quote

pytestmark = pytest.mark.django_db

SETTLED = (
    "La version 1 du devis {number} a été acceptée par le client : aucune "
    "autre version de ce devis ne peut plus être émise, envoyée ni acceptée."
)


def _accept(token: str) -> services.Answer:
    return services.accept_quote(token, name="Claire Martin", ip=None, user_agent="")


def _force_accepted(quote: Quote) -> None:
    """The state left by the old race: v1 accepted after v2 was issued."""
    Quote.objects.filter(pk=quote.pk).update(
        status=Quote.Status.ACCEPTED, accepted_name="Claire Martin"
    )


def test_accepting_v1_closes_its_open_revision_draft(sent, member):
    quote, token = sent
    revision = services.revise_quote(quote, user=member)
    _accept(token)
    message = SETTLED.format(number=quote.number)
    with translation.override("fr"), pytest.raises(services.QuoteSettled) as refused:
        services.issue_quote(revision, user=member)
    assert refused.value.messages == [message]
    assert refused.value.accepted.pk == quote.pk
    revision.refresh_from_db()
    assert revision.issued_at is None and revision.pdf_id is None
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED and quote.superseded_at is None
    assert not AuditEvent.objects.filter(action="quote_issued", object_id=revision.pk)


def test_no_revision_of_a_number_whose_other_version_is_accepted(sent, member):
    quote, _token = sent
    revision = services.issue_quote(
        services.revise_quote(quote, user=member), user=member
    )
    _force_accepted(quote)
    with translation.override("fr"), pytest.raises(services.QuoteSettled) as refused:
        services.revise_quote(revision, user=member)
    assert refused.value.messages == [SETTLED.format(number=quote.number)]


def test_an_other_accepted_version_stops_sending_and_accepting(
    sent, member, mailoutbox
):
    quote, _token = sent
    revision = services.issue_quote(
        services.revise_quote(quote, user=member), user=member
    )
    token = services.send_quote(revision, user=member, base_url="http://testserver/")
    _force_accepted(quote)
    sent_mails = len(mailoutbox)
    message = SETTLED.format(number=quote.number)
    with translation.override("fr"), pytest.raises(services.QuoteSettled) as refused:
        services.send_quote(revision, user=member, base_url="http://testserver/")
    assert refused.value.messages == [message]
    assert len(mailoutbox) == sent_mails
    with translation.override("fr"), pytest.raises(services.QuoteSettled) as refused:
        _accept(token)
    assert refused.value.messages == [message]
    revision.refresh_from_db()
    assert revision.status == Quote.Status.SENT and revision.accepted_at is None
    assert list(
        Quote.objects.filter(number=quote.number, status=Quote.Status.ACCEPTED)
    ) == [quote]


def test_the_quotes_panel_says_why_the_revision_cannot_be_issued(client, member, sent):
    quote, token = sent
    revision = services.revise_quote(quote, user=member)
    _accept(token)
    client.force_login(member)
    with translation.override("fr"):
        html = client.get(quote.case.get_absolute_url()).content.decode()
    message = SETTLED.format(number=quote.number).replace("'", "&#x27;")
    assert 'id="quote-builder-form"' in html
    # In the builder's alert and on the draft's row of the list.
    assert html.count(message) == 2, html
    assert 'value="issue"' not in html
    assert f'id="quote-{revision.pk}"' in html


def test_the_quotes_panel_offers_no_send_for_a_settled_version(
    client, member, sent, mailoutbox
):
    quote, _token = sent
    revision = services.issue_quote(
        services.revise_quote(quote, user=member), user=member
    )
    _force_accepted(quote)
    client.force_login(member)
    with translation.override("fr"):
        html = client.get(quote.case.get_absolute_url()).content.decode()
    assert SETTLED.format(number=quote.number) in html
    assert f"/quotes/{revision.pk}/send/" not in html
    assert f"/quotes/{revision.pk}/revise/" not in html
