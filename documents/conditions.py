"""The checklist conditions documents provides to the engine.

Registered from DocumentsConfig.ready(); each runs one bounded query.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from documents import selectors
from flows.engine.checklists import register_condition
from flows.models import Case, ChecklistItem


def document_condition(case: Case, item: ChecklistItem) -> tuple[bool, str]:
    done = selectors.has_current_document(case, item.document_category)
    return done, (
        _("Joint : un document de la catégorie « %(category)s ».")
        if done
        else _("Joindre un document de la catégorie « %(category)s ».")
    ) % {"category": item.document_category}


def quote_sent_condition(case: Case, item: ChecklistItem) -> tuple[bool, str]:
    if selectors.has_sent_quote(case):
        return True, _("Un devis a été envoyé au client depuis Pilote.")
    return False, _("Envoyer un devis au client depuis Pilote.")


def quote_accepted_condition(case: Case, item: ChecklistItem) -> tuple[bool, str]:
    if selectors.has_accepted_quote(case):
        return True, _("Le client a accepté le devis en ligne.")
    return False, _("Le client accepte le devis en ligne.")


def register() -> None:
    register_condition(ChecklistItem.Kind.DOCUMENT, document_condition)
    register_condition(ChecklistItem.Kind.QUOTE_SENT, quote_sent_condition)
    register_condition(ChecklistItem.Kind.QUOTE_ACCEPTED, quote_accepted_condition)
