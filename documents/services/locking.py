"""The one lock order of quote writes: the case row, then its quote rows.

Issuing, revising, sending and answering a quote each start with
`lock_quote`, so none of them holds a lock another one waits for while
waiting itself (issuing v2 locked the quote then the case, the client's
acceptance of v1 the other way round: a deadlock). The locks are
`FOR NO KEY UPDATE` on PostgreSQL: they serialise these writes without
conflicting with the share locks of foreign-key checks (TECH-NOTES, row
locks). SQLite ignores them; its IMMEDIATE transactions serialise writers.

Under these locks, `refuse_if_accepted_elsewhere` holds the rule that one
quote number has at most one accepted version.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from documents.models import Quote
from documents.selectors import settled_message
from flows.models import Case


class QuoteSettled(ValidationError):
    """Another version of the quote's number is accepted; `.accepted` is it."""

    def __init__(self, accepted: Quote):
        self.accepted = accepted
        super().__init__(settled_message(accepted), code="settled")


def lock_quote(quote: Quote) -> tuple[Quote, list[Quote]]:
    """Lock the case row, then every version of the quote's number.

    Returns the locked quote and all versions of its number (revision
    order, the quote included; only the quote when it has no number yet).
    Call inside atomic().
    """
    Case.objects.select_for_update(no_key=True).only("pk").get(pk=quote.case_id)
    # Revision order: two writers locking several versions agree on it too.
    # No join: PostgreSQL refuses FOR UPDATE on the nullable side of one.
    rows = Quote.objects.select_for_update(no_key=True).order_by("revision", "pk")
    number = Quote.objects.filter(pk=quote.pk).values_list("number", flat=True).get()
    versions = list(rows.filter(number=number) if number else rows.filter(pk=quote.pk))
    locked = next(version for version in versions if version.pk == quote.pk)
    return locked, versions


def refuse_if_accepted_elsewhere(quote: Quote, versions: list[Quote]) -> None:
    """Raise QuoteSettled if a version other than `quote` is accepted."""
    for version in versions:
        if version.pk != quote.pk and version.status == Quote.Status.ACCEPTED:
            raise QuoteSettled(version)
