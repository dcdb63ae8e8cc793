"""System checks of the engine's registries."""

from __future__ import annotations

from django.core import checks

from flows.engine import checklists
from flows.models import ChecklistItem


@checks.register(checks.Tags.models)
def check_checklist_conditions(app_configs=None, **kwargs) -> list[checks.Error]:
    """Every automatic checklist kind has a registered condition.

    Only the `Kind` choices are read: checks also run before `migrate`, when
    the table may not exist, and a row can only hold one of these choices.
    """
    if app_configs is not None and not any(
        config.label == "flows" for config in app_configs
    ):
        return []
    registered = checklists.registered_kinds()
    return [
        checks.Error(
            f"No condition is registered for the automatic checklist kind {kind!r}.",
            hint=(
                "Call flows.engine.checklists.register_condition() for it from "
                "the AppConfig.ready() of the app that provides it."
            ),
            obj=ChecklistItem,
            id="flows.E001",
        )
        for kind in ChecklistItem.Kind.values
        if kind != ChecklistItem.Kind.MANUAL and kind not in registered
    ]
