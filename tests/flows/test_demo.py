import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from flows.models import Case, StatusChange

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not Case.objects.exists()


def test_seed_demo_builds_a_realistic_history_and_is_idempotent(settings, rf):
    settings.DEBUG = True
    call_command("seed_demo")
    assert (
        authenticate(rf.post("/"), username="louis", password="pilote-demo") is not None
    )
    cases = Case.objects.count()
    assert 35 <= cases <= 45
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"nouveau", "qualifie", "signe", "perdu"} <= statuses
    assert Case.objects.filter(status="perdu").exclude(lost_reason="").count() >= 3
    # History over the last 90 days, through the services.
    oldest = StatusChange.objects.order_by("at").first().at
    newest = StatusChange.objects.order_by("-at").first().at
    assert (newest - oldest).days >= 45
    for case in Case.objects.all():
        last = case.status_changes.order_by("-at", "-pk").first()
        assert last.to_status.code == case.status
    assert AuditEvent.objects.filter(action="transition_blocked").exists()
    assert Case.objects.filter(owner__isnull=True).exists()

    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert Case.objects.count() == cases
    assert AuditEvent.objects.count() == events
