"""The flow as a graph: where a status leads, and which moves go backward.

The one graph walk (`reachable`) and the one rule for "backward" live here;
activation checks, the import's status list, the timeline and the insights
all ask these functions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from django.db.models import F, Q
from django.utils.translation import gettext as _

from flows.models import Flow, Status, Transition

Edges = dict[int, list[int]]


def edges_of(flow: Flow) -> Edges:
    """Status id -> the status ids its transitions lead to (one query)."""
    edges: Edges = {}
    for source_id, target_id in Transition.objects.filter(flow=flow).values_list(
        "source_id", "target_id"
    ):
        edges.setdefault(source_id, []).append(target_id)
    return edges


def reachable(start: int, edges: Edges) -> set[int]:
    """Every status id reached from `start` by following edges, `start` included."""
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def is_backward(source: Status, target: Status) -> bool:
    """A move from an open status back to an earlier open one (rework).

    Reopening a closed case is not rework, and neither is closing one.
    """
    return (
        target.position < source.position
        and source.kind == Status.Kind.OPEN
        and target.kind == Status.Kind.OPEN
    )


def backward_q() -> Q:
    """`is_backward` as a filter on StatusChange rows."""
    return Q(
        to_status__position__lt=F("from_status__position"),
        from_status__kind=Status.Kind.OPEN,
        to_status__kind=Status.Kind.OPEN,
    )


def reachable_statuses(flow: Flow, statuses: Iterable[Status]) -> list[Status]:
    """The initial status and those the rules reach from it, in order."""
    statuses = sorted(statuses, key=lambda s: s.position)
    initial = next((s for s in statuses if s.position == 1), None)
    if initial is None:
        return []
    seen = reachable(initial.pk, edges_of(flow))
    return [s for s in statuses if s.pk in seen]


def activation_problems(flow: Flow) -> list[str]:
    """Why `flow` cannot be the active flow; empty when it can."""
    statuses = list(flow.statuses.all())
    problems: list[str] = []
    if not any(s.position == 1 for s in statuses):
        problems.append(_("Aucun statut en position 1 (le statut initial)."))
    kinds = {s.kind for s in statuses}
    if Status.Kind.WON not in kinds:
        problems.append(_("Il faut au moins un statut « gagné »."))
    if Status.Kind.LOST not in kinds:
        problems.append(_("Il faut au moins un statut « perdu »."))
    edges = edges_of(flow)
    closed = {s.pk for s in statuses if s.kind != Status.Kind.OPEN}
    for status in statuses:
        if status.kind == Status.Kind.OPEN and not reachable(status.pk, edges) & closed:
            problems.append(
                _("« %(label)s » ne mène à aucun statut gagné ou perdu.")
                % {"label": status.label}
            )
    return problems
