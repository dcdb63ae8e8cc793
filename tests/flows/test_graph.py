"""The flow as a graph: one walk, one rule for a backward move."""

import pytest

from flows.engine import graph
from flows.models import Status, StatusChange
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_reachable_follows_edges_and_includes_the_start():
    edges = {1: [2], 2: [3, 1], 4: [1]}
    assert graph.reachable(1, edges) == {1, 2, 3}
    assert graph.reachable(3, edges) == {3}


def test_reachable_statuses_of_the_preset_start_at_the_initial_one(default_flow):
    codes = [
        s.code
        for s in graph.reachable_statuses(default_flow, default_flow.statuses.all())
    ]
    assert codes[0] == "nouveau"
    assert codes == [s.code for s in default_flow.statuses.order_by("position")]


def test_is_backward_only_between_open_statuses(default_flow):
    by_code = {s.code: s for s in default_flow.statuses.all()}
    assert graph.is_backward(by_code["qualifie"], by_code["nouveau"])
    assert not graph.is_backward(by_code["nouveau"], by_code["qualifie"])
    lost = next(s for s in by_code.values() if s.kind == Status.Kind.LOST)
    # Reopening a lost case is not rework.
    assert not graph.is_backward(lost, by_code["nouveau"])
    assert not graph.is_backward(by_code["qualifie"], lost)


def test_backward_q_agrees_with_is_backward(default_flow):
    """The query and the Python rule classify every pair of statuses alike."""
    case = CaseFactory(flow=default_flow)
    statuses = list(default_flow.statuses.all())
    for source in statuses:
        for target in statuses:
            if source != target:
                StatusChange.objects.create(
                    case=case, from_status=source, to_status=target
                )
    changes = StatusChange.objects.filter(case=case, from_status__isnull=False)
    by_query = set(changes.filter(graph.backward_q()).values_list("pk", flat=True))
    by_rule = {
        c.pk
        for c in changes.select_related("from_status", "to_status")
        if graph.is_backward(c.from_status, c.to_status)
    }
    assert by_query == by_rule
    assert by_rule  # the preset has backward pairs
