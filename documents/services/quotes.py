"""Quotes: drafts, issuing and revisions.

A quote gets its number only when issued; an issued revision is never
modified (a change is the next revision of the same number).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock
from documents import pdf
from documents.models import CompanyProfile, Document, Quote, QuoteLine
from documents.services.files import QUOTE_CATEGORY, StoredFiles, store_generated
from documents.services.locking import lock_quote, refuse_if_accepted_elsewhere
from flows import access
from flows.engine import sequences
from flows.engine import services as flow_services
from flows.models import Case


class QuoteIncomplete(ValidationError):
    """The quote lacks mentions a French quote must carry; `.missing` lists them."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(missing, code="incomplete")


# --- Quotes: drafts -------------------------------------------------------------


@dataclass(frozen=True)
class LineData:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal


DRAFT_FIELDS = (
    "title",
    "client_name",
    "client_contact",
    "client_address",
    "client_email",
    "client_vat_number",
    "valid_until",
    "notes",
    "terms",
)


def _open_draft(case: Case) -> Quote | None:
    return (
        Quote.objects.filter(
            case=case, status=Quote.Status.DRAFT, issued_at__isnull=True
        )
        .order_by("-pk")
        .first()
    )


def create_quote(case: Case, *, user) -> Quote:
    """A new draft filled from the case and the company profile.

    A case has one draft at a time: when one is open, it is returned.
    """
    flow_services.check_can_act(case, user=user, action="create_quote")
    existing = _open_draft(case)
    if existing is not None:
        return existing
    profile = CompanyProfile.load()
    previous = (
        Quote.objects.filter(case=case)
        .exclude(client_address="")
        .order_by("-pk")
        .first()
    )
    now = clock.now()
    with transaction.atomic():
        quote = Quote(
            case=case,
            title=case.title,
            client_name=case.company or case.contact_name,
            client_contact=case.contact_name if case.company else "",
            client_email=case.email,
            client_address=previous.client_address if previous else "",
            client_vat_number=previous.client_vat_number if previous else "",
            valid_until=timezone.localdate(now)
            + timedelta(days=profile.quote_validity_days),
            terms=profile.payment_terms,
            created_by=user,
            created_at=now,
        )
        quote._history_user = user
        clock.stamp_history(quote)
        quote.save()
        audit.record("quote_created", user=user, case=case, obj=quote, data={})
    return quote


def _editable(quote: Quote) -> Quote:
    """The draft, locked; ValidationError once issued. Call inside atomic()."""
    return _check_editable(Quote.objects.select_for_update().get(pk=quote.pk))


def _check_editable(locked: Quote) -> Quote:
    if not locked.is_editable:
        raise ValidationError(
            _("Ce devis est émis : il ne change plus. Créez une nouvelle version.")
        )
    return locked


class QuoteChanged(Exception):
    """Someone saved the draft since the user loaded it; nothing was written."""

    def __init__(self, quote: Quote, by: str, at):
        self.quote, self.by, self.at = quote, by, at
        super().__init__(f"quote {quote.pk} changed by {by} at {at}")


def save_draft(
    quote: Quote,
    *,
    user,
    fields: dict,
    lines: list[LineData],
    expected_version: int | None = None,
) -> Quote:
    """Save a draft's fields and replace its lines (in the given order).

    `expected_version` is the draft's `edit_version` the user loaded: a save
    on top of someone else's raises QuoteChanged instead of overwriting it.
    """
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    # Checked before the transaction: the refusal's audit event must stay.
    flow_services.check_can_act(quote.case, user=user, action="edit_quote")
    with transaction.atomic():
        locked = _editable(quote)
        if expected_version is not None and locked.edit_version != expected_version:
            record = locked.history.select_related("history_user").first()
            who = record.history_user if record else None
            raise QuoteChanged(
                locked,
                access.display_name(who),
                record.history_date if record else locked.updated_at,
            )
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.edit_version += 1
        locked.full_clean(exclude=["case", "pdf", "signed_document"])
        locked._history_user = user
        clock.stamp_history(locked)
        locked.save()
        QuoteLine.objects.filter(quote=locked).delete()
        new_lines = [
            QuoteLine(
                quote=locked,
                position=position,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
            )
            for position, line in enumerate(lines, start=1)
        ]
        for line in new_lines:
            line.full_clean(exclude=["quote"])
        QuoteLine.objects.bulk_create(new_lines)
    return locked


def delete_draft(quote: Quote, *, user) -> None:
    """Delete a draft that was never issued."""
    flow_services.check_can_act(quote.case, user=user, action="delete_quote")
    with transaction.atomic():
        locked = _editable(quote)
        audit.record(
            "quote_draft_deleted",
            user=user,
            case=locked.case,
            data={"number": locked.number, "revision": locked.revision},
        )
        locked.delete()


# --- Quotes: issuing ------------------------------------------------------------


def missing_mentions(quote: Quote, profile: CompanyProfile, lines) -> list[str]:
    """What a French quote must carry and this one lacks, in words."""
    missing = []
    if not profile.legal_name.strip():
        missing.append(_("Raison sociale du vendeur (profil de l'entreprise)"))
    if not profile.address.strip():
        missing.append(_("Adresse du vendeur (profil de l'entreprise)"))
    if not profile.siret:
        missing.append(_("SIRET du vendeur (profil de l'entreprise)"))
    if profile.vat_applies and not profile.vat_number:
        missing.append(
            _("Numéro de TVA intracommunautaire du vendeur (profil de l'entreprise)")
        )
    if not quote.client_name.strip():
        missing.append(_("Nom du client"))
    if not quote.client_address.strip():
        missing.append(_("Adresse du client"))
    if quote.valid_until is None:
        missing.append(_("Date de fin de validité"))
    elif quote.valid_until < clock.today():
        missing.append(_("Date de fin de validité (elle est déjà passée)"))
    if not lines:
        missing.append(_("Au moins une ligne détaillée"))
    else:
        for index, line in enumerate(lines, start=1):
            if not line.description.strip():
                missing.append(_("Désignation de la ligne %(n)s") % {"n": index})
        if quote.computed_totals(lines).total_ttc <= 0:
            missing.append(_("Un total TTC positif"))
    return missing


def _check_issuable(quote: Quote, profile: CompanyProfile, lines) -> None:
    missing = missing_mentions(quote, profile, lines)
    if missing:
        raise QuoteIncomplete(missing)
    if not profile.vat_applies and any(line.vat_rate for line in lines):
        raise QuoteIncomplete(
            # xgettext:no-python-format
            [_("TVA à 0 % sur chaque ligne (franchise en base de TVA)")]
        )


def _supersede_older(quote: Quote, *, user, now) -> None:
    """Earlier revisions stop being answerable: their links say so."""
    for older in Quote.objects.filter(
        number=quote.number,
        revision__lt=quote.revision,
        superseded_at__isnull=True,
    ):
        older.superseded_at = now
        older._history_user = user
        clock.stamp_history(older)
        older.save(update_fields=["superseded_at", "updated_at"])


def issue_quote(quote: Quote, *, user) -> Quote:
    """Number the draft, render its PDF and store it (category Devis).

    Raises QuoteIncomplete listing every missing mention, ActionRefused,
    QuoteSettled (another version of the number is accepted) or
    ValidationError. The number comes from a gap-free counter in the same
    transaction: a failure gives it back.
    """
    flow_services.check_can_act(quote.case, user=user, action="issue_quote")
    with StoredFiles() as stored, transaction.atomic():
        # Case, then every version: the order of answers.accept_quote.
        locked, versions = lock_quote(quote)
        _check_editable(locked)
        refuse_if_accepted_elsewhere(locked, versions)
        profile = CompanyProfile.load()
        lines = list(locked.lines.all())
        _check_issuable(locked, profile, lines)
        now = clock.now()
        if not locked.number:
            year = timezone.localtime(now).year
            locked.number = f"DEV-{year}-{sequences.next_value(f'quote-{year}'):04d}"
        locked.issued_at = now
        locked.issued_by = user
        locked.seller = profile.snapshot()
        totals = locked.computed_totals(lines)
        locked.total_ht = totals.total_ht
        locked.total_vat = totals.total_vat
        locked.total_ttc = totals.total_ttc
        content = pdf.render_quote_pdf(locked)
        suffix = f"-v{locked.revision}" if locked.revision > 1 else ""
        locked.pdf = store_generated(
            locked.case,
            stored=stored,
            user=user,
            content=content,
            category_code=QUOTE_CATEGORY,
            title=_("Devis %(number)s") % {"number": locked.number},
            original_name=f"{locked.number}{suffix}.pdf",
            origin=Document.Origin.QUOTE,
        )
        locked._history_user = user
        locked._change_reason = "issued"
        clock.stamp_history(locked)
        locked.save()
        _supersede_older(locked, user=user, now=now)
        audit.record(
            "quote_issued",
            user=user,
            case=locked.case,
            obj=locked,
            data={
                "number": locked.number,
                "revision": locked.revision,
                "total_ttc": str(locked.total_ttc),
                "pdf_sha256": locked.pdf.sha256,
            },
        )
    return locked


def _revisable(quote: Quote) -> Quote:
    """The quote, locked, if it may get a new revision. Call inside atomic()."""
    locked, versions = lock_quote(quote)
    if not locked.is_issued:
        raise ValidationError(_("Seul un devis émis se révise."))
    if locked.status == Quote.Status.ACCEPTED:
        raise ValidationError(_("Un devis accepté ne se révise plus."))
    refuse_if_accepted_elsewhere(locked, versions)
    latest = (
        Quote.objects.filter(number=locked.number)
        .order_by("-revision")
        .values_list("revision", flat=True)
        .first()
    )
    if latest != locked.revision:
        raise ValidationError(_("Une version plus récente de ce devis existe déjà."))
    if _open_draft(locked.case) is not None:
        raise ValidationError(
            _(
                "Un brouillon de devis est déjà en cours sur ce dossier : "
                "terminez-le ou supprimez-le d'abord."
            )
        )
    return locked


def revise_quote(quote: Quote, *, user) -> Quote:
    """A new draft revision (same number, revision + 1) copying the lines.

    Raises ActionRefused or ValidationError (not issued, accepted, another
    version accepted, or not the latest revision).
    """
    flow_services.check_can_act(quote.case, user=user, action="revise_quote")
    with transaction.atomic():
        locked = _revisable(quote)
        now = clock.now()
        profile = CompanyProfile.load()
        revision = Quote(
            case=locked.case,
            number=locked.number,
            revision=locked.revision + 1,
            title=locked.title,
            client_name=locked.client_name,
            client_contact=locked.client_contact,
            client_address=locked.client_address,
            client_email=locked.client_email,
            client_vat_number=locked.client_vat_number,
            valid_until=max(
                locked.valid_until or date.min,
                timezone.localdate(now) + timedelta(days=profile.quote_validity_days),
            ),
            notes=locked.notes,
            terms=locked.terms,
            created_by=user,
            created_at=now,
        )
        revision._history_user = user
        clock.stamp_history(revision)
        revision.save()
        QuoteLine.objects.bulk_create(
            [
                QuoteLine(
                    quote=revision,
                    position=line.position,
                    description=line.description,
                    quantity=line.quantity,
                    unit=line.unit,
                    unit_price=line.unit_price,
                    vat_rate=line.vat_rate,
                )
                for line in locked.lines.all()
            ]
        )
        audit.record(
            "quote_revised",
            user=user,
            case=locked.case,
            obj=revision,
            data={"number": locked.number, "revision": revision.revision},
        )
    return revision
