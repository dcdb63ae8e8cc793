"""Every refusal is recorded once in the audit trail, whatever the page.

The walk covers the whole URLconf: a signed-in user without a role asks for
every private page (GET, POST, and POST as htmx); each 403 leaves exactly one
`permission_denied` event, and nothing else leaves more than one.
"""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from flows import access
from flows.models import ChecklistItem, Flow, ImportRun, Status
from tests.config.test_access import PRIVATE_ROUTES, _example_path
from tests.conftest import make_user
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _denied():
    return AuditEvent.objects.filter(action="permission_denied").count()


@pytest.fixture
def outsider(django_user_model):
    return make_user(django_user_model, "paul", None)


def test_every_403_of_the_urlconf_is_recorded_once(client, outsider, default_flow):
    refused = 0
    for route, _name in PRIVATE_ROUTES:
        path = _example_path(route)
        for method, headers in (("get", {}), ("post", {}), ("post", HTMX)):
            client.force_login(outsider)  # the logout page signs out
            before = _denied()
            response = getattr(client, method)(path, headers=headers)
            recorded = _denied() - before
            if response.status_code == 403:
                refused += 1
                assert recorded == 1, f"{path}: 403 recorded {recorded} times"
            else:
                assert recorded <= 1, f"{path}: {response.status_code}, {recorded}"
    # Most private pages refuse a user without a role (the admin's send
    # to its login instead).
    assert refused >= 60


def test_a_refused_event_says_what_and_where(client, outsider, default_flow):
    client.force_login(outsider)
    assert client.get(reverse("flows:insights")).status_code == 403
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.actor == outsider
    assert event.data == {"path": reverse("flows:insights")}


def test_a_checklist_item_of_another_flow_is_a_recorded_404(
    client, member, default_flow
):
    case = CaseFactory(flow=default_flow, owner=member)
    other = Flow.objects.create(name="Autre", slug="autre")
    status = Status.objects.create(flow=other, position=1, code="a", label="A")
    foreign = ChecklistItem.objects.create(status=status, label="Ailleurs")
    client.force_login(member)
    url = reverse("flows:checklist_toggle", args=[case.reference, foreign.pk])
    assert client.post(url, {"done": "1"}).status_code == 404
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.case == case
    assert event.data["answered"] == 404
    assert event.data["object"] == "flows.checklistitem"
    # An id that exists nowhere is an ordinary 404: nothing to record.
    missing = reverse("flows:checklist_toggle", args=[case.reference, foreign.pk + 99])
    assert client.post(missing, {"done": "1"}).status_code == 404
    assert AuditEvent.objects.filter(action="permission_denied").count() == 1


def test_another_managers_import_is_a_recorded_404(client, manager, django_user_model):
    other = make_user(django_user_model, "paulette", access.MANAGER)
    run = ImportRun.objects.create(
        created_by=other, original_name="a.csv", encoding="utf-8", delimiter=";"
    )
    client.force_login(manager)
    response = client.get(reverse("flows:import_preview", args=[run.token]))
    assert response.status_code == 404
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.actor == manager
    assert event.data["object"] == "flows.importrun"
    assert event.data["id"] == run.pk
