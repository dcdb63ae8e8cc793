"""The flow map's reads: each status with its checklist and the moves out of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.models import ChecklistItem, Flow, Status, Transition


@dataclass
class StatusRules:
    status: Status
    checklist: list[ChecklistItem]
    moves: list[Transition] = field(default_factory=list)


def status_rules(flow: Flow) -> tuple[list[StatusRules], list[Transition]]:
    """Statuses in order with their checklists and moves out, and every move.

    Three queries, whatever the number of statuses or transitions.
    """
    statuses = list(
        flow.statuses.order_by("position").prefetch_related("checklist_items")
    )
    transitions = list(
        Transition.objects.filter(flow=flow)
        .select_related("source", "target")
        .order_by("source__position", "target__position")
    )
    rules = {
        status.pk: StatusRules(
            status=status, checklist=list(status.checklist_items.all())
        )
        for status in statuses
    }
    for transition in transitions:
        if transition.source_id in rules:
            rules[transition.source_id].moves.append(transition)
    return list(rules.values()), transitions
