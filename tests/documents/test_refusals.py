"""Someone else's quote or document is a 404 that the audit trail records."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _refusals():
    return list(AuditEvent.objects.filter(action="permission_denied"))


def test_a_quote_of_another_case_is_a_recorded_404(client, member, draft, default_flow):
    other = CaseFactory(flow=default_flow, owner=member)
    client.force_login(member)
    url = reverse("documents:quote_delete", args=[other.reference, draft.pk])
    assert client.post(url).status_code == 404
    (event,) = _refusals()
    assert event.case == other
    assert event.data["object"] == "documents.quote"
    assert event.data["id"] == draft.pk
    assert event.data["answered"] == 404
    draft.refresh_from_db()  # still there


def test_a_quote_that_does_not_exist_is_not_recorded(client, member, case):
    client.force_login(member)
    url = reverse("documents:quote_delete", args=[case.reference, 999999])
    assert client.post(url).status_code == 404
    assert _refusals() == []
