"""The documents and quotes panels of the case page, with their forms.

Registered into flows.engine.panels from DocumentsConfig.ready(); the data
comes from the selectors, the forms are built here.
"""

from __future__ import annotations

from documents import forms, selectors
from flows.engine.panels import register_panel
from flows.models import Case


def case_panels(case: Case, *, user, **bound) -> dict:
    """Context of the documents and quotes panels of the case page.

    `bound` replaces the unbound forms (a refused upload, an invalid draft).
    """
    context = selectors.case_panel_data(case, user=user)
    if context["can_act_documents"]:
        context["upload_form"] = bound.get("upload_form") or forms.UploadForm(
            categories=selectors.categories()
        )
        draft = context["quote_draft"]
        if draft is not None:
            context["quote_form"] = bound.get("quote_form") or forms.QuoteForm(
                instance=draft
            )
            context["line_formset"] = bound.get(
                "line_formset"
            ) or forms.line_formset_for(draft)
            context["draft_totals"] = (
                bound.get("draft_totals") or draft.computed_totals()
            )
    context.update({k: v for k, v in bound.items() if k not in context})
    return context


def register() -> None:
    register_panel("documents", case_panels)
