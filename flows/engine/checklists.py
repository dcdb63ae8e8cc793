"""Checklist state: manual ticks and automatic items, computed live.

One function serves the guards and the pages, so what blocks a move and what
the user sees can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from flows.models import Case, CaseChecklistItem, ChecklistItem, Status


@dataclass(frozen=True)
class ChecklistEntry:
    item: ChecklistItem
    done: bool
    # For manual items: who ticked it and when. For automatic ones: what
    # satisfies (or would satisfy) them, in words.
    done_by: object | None = None
    done_at: datetime | None = None
    note: str = ""
    detail: str = ""

    @property
    def blocks(self) -> bool:
        return self.item.required and not self.done


# Automatic items: each kind but "manual" has one condition, which answers
# (done, what satisfies the item in words). Other apps register theirs from
# AppConfig.ready(), so the engine never imports them; the flows.E001 system
# check refuses to start when a kind has none.
Condition = Callable[[Case, ChecklistItem], tuple[bool, str]]
_conditions: dict[str, Condition] = {}


def register_condition(kind: str, condition: Condition) -> None:
    """Make `condition` decide the automatic items of `kind` (the last one wins)."""
    _conditions[str(kind)] = condition


def unregister_condition(kind: str) -> Condition | None:
    """Remove and return the condition of `kind`, if any."""
    return _conditions.pop(str(kind), None)


def registered_kinds() -> frozenset[str]:
    return frozenset(_conditions)


def _field_filled(case: Case, field_name: str) -> bool:
    if field_name == ChecklistItem.Field.EMAIL_OR_PHONE:
        return bool(case.email or case.phone)
    value = getattr(case, field_name, None)
    return value not in (None, "")


def field_condition(case: Case, item: ChecklistItem) -> tuple[bool, str]:
    label = ChecklistItem.Field(item.field_name).label if item.field_name else ""
    done = _field_filled(case, item.field_name)
    return done, (
        _("Renseigné : %(field)s") if done else _("À renseigner : %(field)s")
    ) % {"field": label}


register_condition(ChecklistItem.Kind.FIELD, field_condition)


def _automatic(case: Case, item: ChecklistItem) -> tuple[bool, str]:
    condition = _conditions.get(item.kind)
    if condition is None:
        # Blocks rather than passes; the flows.E001 check names the kind.
        return False, ""
    return condition(case, item)


def checklist_state(case: Case, status: Status | None = None) -> list[ChecklistEntry]:
    """The checklist of `status` (default: the case's current one) for `case`."""
    if status is None:
        status = Status.objects.get(flow_id=case.flow_id, code=case.status)
    items = list(status.checklist_items.all())
    manual_ids = [item.pk for item in items if not item.is_automatic]
    states = {}
    if manual_ids:
        states = {
            state.item_id: state
            for state in CaseChecklistItem.objects.filter(
                case=case, item_id__in=manual_ids
            ).select_related("done_by")
        }
    entries = []
    for item in items:
        if item.is_automatic:
            done, detail = _automatic(case, item)
            entries.append(ChecklistEntry(item=item, done=done, detail=detail))
        else:
            state = states.get(item.pk)
            if state and state.done:
                entries.append(
                    ChecklistEntry(
                        item=item,
                        done=True,
                        done_by=state.done_by,
                        done_at=state.done_at,
                        note=state.note,
                    )
                )
            else:
                entries.append(ChecklistEntry(item=item, done=False))
    return entries
