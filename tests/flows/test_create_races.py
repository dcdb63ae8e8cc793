"""Two people create the same missing row at the same moment: one row, no 500.

Each "create if missing" path runs in two threads released together. On
PostgreSQL both threads find no row and both insert: without care the loser
hits the unique constraint. SQLite's IMMEDIATE transactions serialise the
writers, so there the tests pass either way; run them on PostgreSQL.
"""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from flows.engine import sequences, services
from flows.models import (
    CaseChecklistItem,
    ChecklistItem,
    Notification,
    Sequence,
    UserPreference,
)
from flows.outbox import notifications
from tests.factories import CaseFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def _no_errors(results: list) -> None:
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors


def test_two_first_ticks_of_one_item_make_one_row(default_flow, member, manager):
    # A few fresh cases: each race is one chance for both threads to insert.
    cases = [CaseFactory(flow=default_flow, owner=member) for _n in range(4)]
    item = ChecklistItem.objects.filter(status__code="nouveau", kind="manual").first()

    for case in cases:

        def tick(index: int, case=case):
            user = member if index == 0 else manager
            return services.set_checklist_item(case, item, user=user, done=True)

        results = run_in_threads(2, tick)
        _no_errors(results)
        state = CaseChecklistItem.objects.get(case=case, item=item)
        assert state.done
        # One tick took effect: one history row, one audit event.
        assert state.history.count() == 1
        ticked = AuditEvent.objects.filter(action="checklist_ticked", case_id=case.pk)
        assert ticked.count() == 1


def test_two_mark_all_read_mark_each_notification_once(member):
    for _n in range(3):
        notifications._create(member.pk, Notification.Kind.ASSIGNED)

    results = run_in_threads(2, lambda _index: notifications.mark_all_read(member))
    _no_errors(results)
    assert sum(results) == 3
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_two_first_preference_saves_make_one_row(member):
    url = reverse("flows:notification_preferences")

    def save(index: int):
        client = Client()
        client.force_login(member)
        language = "fr" if index == 0 else "en"
        data = {"language": language, "daily_digest": "on"}
        return client.post(url, data).status_code

    results = run_in_threads(2, save)
    _no_errors(results)
    assert results == [302, 302]
    assert UserPreference.objects.filter(user=member).count() == 1


def test_two_first_numbers_of_a_key_make_one_counter():
    def reserve(_index: int) -> int:
        with transaction.atomic():
            return sequences.next_value("race-test")

    results = run_in_threads(2, reserve)
    _no_errors(results)
    assert sorted(results) == [1, 2]
    assert Sequence.objects.filter(key="race-test").count() == 1
