"""Two people at the same moment: one move wins, references stay gap-free.

Runs on both databases: PostgreSQL serialises on the row lock, SQLite on its
single writer (IMMEDIATE transactions).
"""

import pytest
from django.utils import timezone

from flows.engine import services
from flows.models import Case, StatusChange
from tests.factories import CaseFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_moves_one_wins(default_flow, member, manager):
    case = CaseFactory(flow=default_flow, owner=member)
    targets = ["perdu", "qualifie"]

    def move(index: int):
        # Each person loaded the page when the case was "nouveau".
        mine = Case.objects.get(pk=case.pk)
        user = member if index == 0 else manager
        kwargs = {"reason": "Pas de budget"} if targets[index] == "perdu" else {}
        if targets[index] == "qualifie":
            kwargs = {"override": True, "reason": "Appel fait"}
        return services.move_case(
            mine, targets[index], user=user, expected_status="nouveau", **kwargs
        )

    results = run_in_threads(2, move)
    wins = [r for r in results if isinstance(r, StatusChange)]
    losses = [r for r in results if isinstance(r, services.TransitionBlocked)]
    assert len(wins) == 1, results
    assert len(losses) == 1, results
    assert "stale" in losses[0].codes
    case.refresh_from_db()
    assert case.status == wins[0].to_status.code
    moves = StatusChange.objects.filter(case=case, from_status__isnull=False)
    assert moves.count() == 1


def test_concurrent_creation_gives_unique_gap_free_references(default_flow, member):
    count = 6

    def create(index: int):
        return services.create_case(
            flow=default_flow,
            user=member,
            owner=member,
            title=f"Concurrent {index}",
            next_action="Rappeler",
            next_action_due=timezone.localdate(),
        )

    results = run_in_threads(count, create)
    assert all(isinstance(r, Case) for r in results), results
    year = timezone.localdate().year
    references = sorted(case.reference for case in results)
    assert references == [f"{year}-{n:04d}" for n in range(1, count + 1)]
