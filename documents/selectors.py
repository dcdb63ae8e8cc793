"""Reads of documents and quotes: checklist conditions, case panels, links.

Every function here runs a fixed number of queries, whatever the number of
documents, quotes or lines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config import clock
from documents import money
from documents.models import CompanyProfile, Document, DocumentCategory, Quote
from flows import access
from flows.models import Status

ANSWERED = (Quote.Status.ACCEPTED, Quote.Status.DECLINED, Quote.Status.EXPIRED)

STATE_LABELS = {
    "draft": _("Brouillon"),
    "issued": _("Émis, pas encore envoyé"),
    "sent": _("Envoyé"),
    "accepted": _("Accepté"),
    "declined": _("Refusé"),
    "expired": _("Expiré"),
    "superseded": _("Remplacé"),
}
STATE_BADGES = {
    "draft": "",
    "issued": "badge-info",
    "sent": "badge-info",
    "accepted": "badge-success",
    "declined": "badge-danger",
    "expired": "badge-warning",
    "superseded": "",
}


# What the audit actions of this app mean, for the case timeline and the log.
EVENT_LABELS = {
    "document_uploaded": _("Document joint"),
    "document_new_version": _("Nouvelle version d'un document"),
    "document_downloaded": _("Document téléchargé"),
    "quote_created": _("Devis commencé"),
    "quote_issued": _("Devis émis"),
    "quote_revised": _("Nouvelle version de devis"),
    "quote_sent": _("Devis envoyé au client"),
    "quote_link_opened": _("Lien du devis ouvert par le client"),
    "quote_accepted": _("Devis accepté en ligne"),
    "quote_signed_copy": _("Exemplaire signé du devis enregistré"),
    "quote_declined": _("Devis refusé en ligne"),
    "quote_expired": _("Devis expiré"),
    "quote_draft_deleted": _("Brouillon de devis supprimé"),
}


# --- Checklist conditions (one query each) ------------------------------------


def has_current_document(case, category_code: str) -> bool:
    return Document.objects.filter(
        case=case, category__code=category_code, is_current=True
    ).exists()


def has_sent_quote(case) -> bool:
    """A quote went to the client from Pilote and is with them (or accepted)."""
    return Quote.objects.filter(
        case=case,
        status__in=[Quote.Status.SENT, Quote.Status.ACCEPTED],
        superseded_at__isnull=True,
    ).exists()


def has_accepted_quote(case) -> bool:
    return Quote.objects.filter(case=case, status=Quote.Status.ACCEPTED).exists()


def settled_message(accepted: Quote) -> str:
    """Why no other version of `accepted`'s number may be issued, sent or accepted."""
    return _(
        "La version %(revision)s du devis %(number)s a été acceptée par le "
        "client : aucune autre version de ce devis ne peut plus être émise, "
        "envoyée ni acceptée."
    ) % {"revision": accepted.revision, "number": accepted.number}


# --- The public link ----------------------------------------------------------


def quote_for_token(token: str) -> Quote | None:
    if not token or len(token) > 128:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return (
        Quote.objects.select_related("case", "pdf", "signed_document")
        .filter(token_hash=digest)
        .first()
    )


def link_state(quote: Quote, now: datetime | None = None) -> str:
    """open, accepted, declined, expired or superseded."""
    if quote.status in ANSWERED:
        return quote.status
    if quote.superseded_at:
        return "superseded"
    now = now or clock.now()
    if (
        quote.status != Quote.Status.SENT
        or quote.token_expires_at is None
        or now >= quote.token_expires_at
    ):
        return "expired"
    return "open"


# --- What a quote shows (PDF, public page, e-mail) ----------------------------


def quote_document(quote: Quote) -> dict:
    """Everything the quote templates print, with the totals per VAT rate.

    An issued quote prints the seller as it was at issue time; a draft the
    current company profile.
    """
    lines = list(quote.lines.all())
    totals = quote.computed_totals(lines)
    seller = quote.seller if quote.is_issued else CompanyProfile.load().snapshot()
    issued_on = (
        timezone.localdate(quote.issued_at) if quote.issued_at else clock.today()
    )
    return {
        "quote": quote,
        "seller": seller,
        "vat_applies": seller.get("vat_applies", True),
        "lines": list(zip(lines, totals.line_totals, strict=True)),
        "totals": totals,
        "issued_on": issued_on,
    }


# --- The case page panels -----------------------------------------------------


@dataclass
class DocumentGroup:
    current: Document
    older: list[Document] = field(default_factory=list)


@dataclass
class QuoteRow:
    quote: Quote
    state: str
    label: str
    badge: str
    total_ttc: object
    is_latest: bool
    can_send: bool = False
    can_revise: bool = False
    # Another version of the number is accepted: why this one is closed.
    settled: str = ""


def document_groups(case) -> list[DocumentGroup]:
    """Each document with its current version first, newest documents first."""
    groups: dict[str, DocumentGroup] = {}
    for document in (
        Document.objects.filter(case=case)
        .select_related("category", "uploaded_by")
        .order_by("title_key", "-version")
    ):
        group = groups.get(document.title_key)
        if group is None:
            groups[document.title_key] = DocumentGroup(current=document)
        else:
            group.older.append(document)
    for group in groups.values():
        # The current version, or the latest if none is flagged.
        current = next(
            (doc for doc in [group.current, *group.older] if doc.is_current),
            group.current,
        )
        if current is not group.current:
            group.older = [group.current] + [d for d in group.older if d is not current]
            group.current = current
    return sorted(groups.values(), key=lambda g: g.current.uploaded_at, reverse=True)


def quote_rows(case, *, can_act: bool) -> tuple[list[QuoteRow], Quote | None]:
    """The case's quotes (newest first) and the draft being built, if any."""
    quotes = list(
        Quote.objects.filter(case=case)
        .select_related("pdf", "signed_document")
        .prefetch_related("lines")
        .order_by("-created_at", "-pk")
    )
    latest: dict[str, int] = {}
    accepted: dict[str, Quote] = {}
    for quote in quotes:
        if quote.number:
            latest[quote.number] = max(latest.get(quote.number, 0), quote.revision)
            if quote.status == Quote.Status.ACCEPTED:
                accepted.setdefault(quote.number, quote)
    today = clock.today()
    draft_open = any(quote.is_editable for quote in quotes)
    rows, draft = [], None
    for quote in quotes:
        state = quote.state(today)
        is_latest = not quote.number or latest[quote.number] == quote.revision
        if quote.is_editable and draft is None:
            draft = quote
        winner = accepted.get(quote.number) if quote.number else None
        settled = winner is not None and winner.pk != quote.pk
        total = quote.total_ttc
        if total is None:
            total = money.totals(
                (line.quantity, line.unit_price, line.vat_rate)
                for line in quote.lines.all()
            ).total_ttc
        rows.append(
            QuoteRow(
                quote=quote,
                state=state,
                label=str(STATE_LABELS[state]),
                badge=STATE_BADGES[state],
                total_ttc=total,
                is_latest=is_latest,
                can_send=can_act
                and state in ("issued", "sent")
                and is_latest
                and not settled,
                can_revise=can_act
                and quote.is_issued
                and is_latest
                and quote.status != Quote.Status.ACCEPTED
                and not settled
                # One draft per case at a time.
                and not draft_open,
                settled=settled_message(winner) if settled else "",
            )
        )
    return rows, draft


def categories() -> list[DocumentCategory]:
    return list(DocumentCategory.objects.all())


def case_panel_data(case, *, user) -> dict:
    """What the documents and quotes panels of the case page show, forms aside."""
    can_act = access.can_act_on(user, case)
    rows, draft = quote_rows(case, can_act=can_act)
    accepted = any(row.state == "accepted" for row in rows)
    return {
        "case_is_won": accepted
        and Status.objects.filter(
            flow_id=case.flow_id, code=case.status, kind=Status.Kind.WON
        ).exists(),
        "document_groups": document_groups(case),
        "quote_rows": rows,
        "quote_draft": draft,
        # The draft is another version of an accepted number: no issuing.
        "quote_draft_settled": next(
            (row.settled for row in rows if draft and row.quote.pk == draft.pk), ""
        ),
        "can_act_documents": can_act,
    }
