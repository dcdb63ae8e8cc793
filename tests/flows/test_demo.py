import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Q

from audit.models import AuditEvent
from config import clock
from flows.engine import selectors
from flows.insights import figures, periods
from flows.models import Case, Flow, Notification, StatusChange

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not Case.objects.exists()


def test_seed_demo_builds_a_realistic_history_and_is_idempotent(
    settings, rf, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    # Notifications are created on commit, as in a real run.
    with django_capture_on_commit_callbacks(execute=True):
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
    _follow_ups_have_something_to_show()

    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert Case.objects.count() == cases
    assert AuditEvent.objects.count() == events


def _follow_ups_have_something_to_show():
    """Issue 7: next actions, waiting, stale cases, and every insight non-empty."""
    statuses = selectors.statuses_of(Flow.objects.get(is_active=True))
    open_cases = Case.objects.filter(closed_at__isnull=True)
    assert not open_cases.filter(Q(next_action="") | Q(next_action_due__isnull=True))
    today = clock.today()
    assert open_cases.filter(next_action_due__lt=today).exists()
    assert open_cases.filter(next_action_due=today).exists()
    assert open_cases.filter(next_action_due__gt=today).exists()
    assert 2 <= open_cases.filter(selectors.waiting_q()).count() <= 8
    assert open_cases.filter(selectors.waiting_ends_q()).exists()
    stale = open_cases.filter(selectors.stale_q(statuses))
    assert stale.values("status").distinct().count() >= 3
    data = figures.compute(
        flow=statuses[0].flow, statuses=statuses, period=periods.period_of(90)
    )
    assert all(row.stays for row in data.time_in_status)
    assert any(row.client for row in data.time_in_status)  # client time
    assert data.cycle.count and data.funnel.win_rate
    assert data.risk.count and data.risk.amount
    assert data.response.in_time and data.response.late
    assert data.rework.blocked and data.rework.overrides and data.rework.backward
    assert data.dependency.half_holders and data.dependency.overdue
    assert data.lost and data.slips.total
    assert Notification.objects.filter(kind="mention").exists()
    assert Notification.objects.filter(kind="assigned").exists()
