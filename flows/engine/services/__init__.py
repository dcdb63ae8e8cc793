"""Use cases that change cases: one transaction each, audited.

Every status change in Pilote goes through `move_case`, whatever the entry
point (board, case page, admin, import, public quote page, command). The
use cases live in one module per concern; callers import this package
(`from flows.engine import services`), the modules import each other
directly.
"""

from flows.engine.services.cases import (
    EDITABLE_FIELDS,
    ActionRefused,
    CaseChanged,
    activate_flow,
    add_comment,
    assign_case,
    check_can_act,
    create_case,
    create_cases_bulk,
    last_change,
    next_action_errors,
    set_checklist_item,
    update_case,
)
from flows.engine.services.followups import (
    complete_next_action,
    end_waiting,
    start_waiting,
)
from flows.engine.services.moves import TransitionBlocked, move_case

__all__ = [
    "EDITABLE_FIELDS",
    "ActionRefused",
    "CaseChanged",
    "TransitionBlocked",
    "activate_flow",
    "add_comment",
    "assign_case",
    "check_can_act",
    "complete_next_action",
    "create_case",
    "create_cases_bulk",
    "end_waiting",
    "last_change",
    "move_case",
    "next_action_errors",
    "set_checklist_item",
    "start_waiting",
    "update_case",
]
