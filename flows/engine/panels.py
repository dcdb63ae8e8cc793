"""Case-page panels other apps add: each registers a context function.

The documents app registers its panels from AppConfig.ready(), so the case
page shows them without the engine or the page importing that app.
"""

from __future__ import annotations

from collections.abc import Callable

from flows.models import Case

# (case, *, user, **bound) -> the panel's template context; `bound` holds the
# forms a refused request sends back (an invalid upload, a draft in error).
PanelContext = Callable[..., dict]
_panels: dict[str, PanelContext] = {}


def register_panel(name: str, context_fn: PanelContext) -> None:
    """Add (or replace) the panel `name`; panels merge in registration order."""
    _panels[name] = context_fn


def unregister_panel(name: str) -> PanelContext | None:
    return _panels.pop(name, None)


def panel_context(case: Case, *, user, **bound) -> dict:
    """The merged context of every registered panel for `case`."""
    context: dict = {}
    for context_fn in _panels.values():
        context.update(context_fn(case, user=user, **bound))
    return context
