"""Checklist state: manual ticks and automatic items, computed live.

One function serves the guards and the pages, so what blocks a move and what
the user sees can never disagree.
"""

from __future__ import annotations

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


def _field_filled(case: Case, field_name: str) -> bool:
    if field_name == ChecklistItem.Field.EMAIL_OR_PHONE:
        return bool(case.email or case.phone)
    value = getattr(case, field_name, None)
    return value not in (None, "")


def _automatic(case: Case, item: ChecklistItem) -> tuple[bool, str]:
    kind = item.kind
    if kind == ChecklistItem.Kind.FIELD:
        label = ChecklistItem.Field(item.field_name).label if item.field_name else ""
        done = _field_filled(case, item.field_name)
        return done, (
            _("Renseigné : %(field)s") if done else _("À renseigner : %(field)s")
        ) % {"field": label}
    # Documents and quotes (issue 5): one bounded query per item. Imported
    # here: the documents app imports flows.
    from documents import selectors as documents

    if kind == ChecklistItem.Kind.DOCUMENT:
        done = documents.has_current_document(case, item.document_category)
        return done, (
            _("Joint : un document de la catégorie « %(category)s ».")
            if done
            else _("Joindre un document de la catégorie « %(category)s ».")
        ) % {"category": item.document_category}
    if kind == ChecklistItem.Kind.QUOTE_SENT:
        if documents.has_sent_quote(case):
            return True, _("Un devis a été envoyé au client depuis Pilote.")
        return False, _("Envoyer un devis au client depuis Pilote.")
    if kind == ChecklistItem.Kind.QUOTE_ACCEPTED:
        if documents.has_accepted_quote(case):
            return True, _("Le client a accepté le devis en ligne.")
        return False, _("Le client accepte le devis en ligne.")
    return False, ""


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
