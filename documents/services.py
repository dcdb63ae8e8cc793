"""Use cases of documents and quotes: one transaction each, audited.

Files are validated before anything is stored, and a file written to storage
is removed again when its transaction fails, so a refusal leaves nothing
behind. A quote gets its number only when issued; an issued revision is
never modified (a change is the next revision of the same number).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock
from documents import pdf, selectors, uploads
from documents.models import (
    CompanyProfile,
    Document,
    DocumentCategory,
    Quote,
    QuoteLine,
    title_key,
)
from flows import access
from flows.engine import guards, sequences
from flows.engine import services as flow_services
from flows.models import Case, Status, Transition
from flows.outbox import notifications, webhooks

logger = logging.getLogger(__name__)

DEFAULT_CATEGORIES = (
    ("devis", "Devis"),
    ("contrat", "Contrat"),
    ("compte-rendu", "Compte rendu"),
    ("piece-client", "Pièce client"),
    ("autre", "Autre"),
)
QUOTE_CATEGORY = "devis"
SIGNED_CATEGORY = "contrat"


class QuoteIncomplete(ValidationError):
    """The quote lacks mentions a French quote must carry; `.missing` lists them."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(missing, code="incomplete")


class QuoteLinkGone(Exception):
    """The public link no longer accepts answers; `.state` says why."""

    def __init__(self, state: str):
        self.state = state
        super().__init__(state)


def ensure_default_categories() -> None:
    """Create the default categories that are missing; safe to run again."""
    existing = set(DocumentCategory.objects.values_list("code", flat=True))
    DocumentCategory.objects.bulk_create(
        [
            DocumentCategory(code=code, label=label, position=position)
            for position, (code, label) in enumerate(DEFAULT_CATEGORIES, start=1)
            if code not in existing
        ],
        ignore_conflicts=True,
    )


def _category(code: str) -> DocumentCategory:
    category = DocumentCategory.objects.filter(code=code).first()
    if category is None:
        ensure_default_categories()
        category = DocumentCategory.objects.get(code=code)
    return category


# --- Documents ------------------------------------------------------------------


class _StoredFiles:
    """Files written during one service call, deleted again if it fails.

    Used as `with _StoredFiles() as stored, transaction.atomic():` so the
    rollback happens first, then the files go: a refusal or a crash leaves
    neither a row nor a file behind.
    """

    def __init__(self) -> None:
        self.names: list[str] = []

    def __enter__(self) -> _StoredFiles:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            for name in self.names:
                default_storage.delete(name)
        return False


def _store(
    case: Case,
    *,
    stored: _StoredFiles,
    user,
    content,
    category: DocumentCategory,
    title: str,
    original_name: str,
    content_type: str,
    size: int,
    sha256: str,
    origin: str,
) -> Document:
    """Write the file and its row, inside the caller's transaction.

    The case row is locked first, so two uploads of the same title get
    consecutive versions (SQLite's IMMEDIATE transactions serialise already).
    """
    Case.objects.select_for_update().only("pk").get(pk=case.pk)
    key = title_key(title)
    previous = (
        Document.objects.filter(case=case, title_key=key).order_by("-version").first()
    )
    name = default_storage.save(
        Document._meta.get_field("file").generate_filename(None, "upload"), content
    )
    stored.names.append(name)
    if previous is not None:
        for older in Document.objects.filter(case=case, title_key=key, is_current=True):
            older.is_current = False
            older._history_user = user
            clock.stamp_history(older)
            older.save(update_fields=["is_current"])
    document = Document(
        case=case,
        category=category,
        title=title,
        title_key=key,
        version=(previous.version + 1) if previous else 1,
        is_current=True,
        original_name=original_name,
        content_type=content_type,
        size=size,
        sha256=sha256,
        origin=origin,
        uploaded_by=user,
        uploaded_at=clock.now(),
    )
    document.file.name = name
    document._history_user = user
    clock.stamp_history(document)
    document.save()
    return document


def upload_document(case: Case, *, user, file, category, title: str) -> Document:
    """Validate and store an upload (version n+1 when the title exists).

    Raises ActionRefused (audited) or ValidationError (nothing stored).
    """
    flow_services.check_can_act(case, user=user, action="upload_document")
    if not isinstance(category, DocumentCategory):
        category = DocumentCategory.objects.filter(code=category).first()
        if category is None:
            raise ValidationError({"category": _("Catégorie inconnue.")})
    title = uploads.clean_text(title, 200)
    if not title:
        raise ValidationError({"title": _("Donnez un titre au document.")})
    try:
        checked = uploads.check_upload(file)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    with _StoredFiles() as stored, transaction.atomic():
        file.seek(0)
        document = _store(
            case,
            stored=stored,
            user=user,
            content=file,
            category=category,
            title=title,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            origin=Document.Origin.UPLOAD,
        )
        audit.record(
            "document_new_version" if document.version > 1 else "document_uploaded",
            user=user,
            case=case,
            obj=document,
            data={
                "title": document.title,
                "version": document.version,
                "category": category.code,
                "name": document.original_name,
                "content_type": document.content_type,
                "size": document.size,
                "sha256": document.sha256,
            },
        )
    return document


def _store_generated(
    case: Case,
    *,
    stored: _StoredFiles,
    user,
    content: bytes,
    category_code: str,
    title: str,
    original_name: str,
    origin: str,
) -> Document:
    return _store(
        case,
        stored=stored,
        user=user,
        content=ContentFile(content),
        category=_category(category_code),
        title=title,
        original_name=original_name,
        content_type=uploads.PDF,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        origin=origin,
    )


def record_download(document: Document, *, user, actor_label: str = "") -> None:
    audit.record(
        "document_downloaded",
        user=user,
        actor_label=actor_label,
        case=document.case,
        obj=document,
        data={"title": document.title, "version": document.version},
    )


def read_document(document: Document) -> bytes:
    with default_storage.open(document.file.name, "rb") as handle:
        return handle.read()


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
    locked = Quote.objects.select_for_update().get(pk=quote.pk)
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


def issue_quote(quote: Quote, *, user) -> Quote:
    """Number the draft, render its PDF and store it (category Devis).

    Raises QuoteIncomplete listing every missing mention, ActionRefused or
    ValidationError. The number comes from a gap-free counter in the same
    transaction: a failure gives it back.
    """
    flow_services.check_can_act(quote.case, user=user, action="issue_quote")
    with _StoredFiles() as stored, transaction.atomic():
        locked = _editable(quote)
        profile = CompanyProfile.load()
        lines = list(locked.lines.all())
        missing = missing_mentions(locked, profile, lines)
        if missing:
            raise QuoteIncomplete(missing)
        if not profile.vat_applies and any(line.vat_rate for line in lines):
            raise QuoteIncomplete(
                # xgettext:no-python-format
                [_("TVA à 0 % sur chaque ligne (franchise en base de TVA)")]
            )
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
        locked.pdf = _store_generated(
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
        # Earlier revisions stop being answerable: their links say so.
        for older in Quote.objects.filter(
            number=locked.number,
            revision__lt=locked.revision,
            superseded_at__isnull=True,
        ):
            older.superseded_at = now
            older._history_user = user
            clock.stamp_history(older)
            older.save(update_fields=["superseded_at", "updated_at"])
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


def revise_quote(quote: Quote, *, user) -> Quote:
    """A new draft revision (same number, revision + 1) copying the lines.

    Raises ActionRefused or ValidationError (not issued, accepted, or not the
    latest revision).
    """
    flow_services.check_can_act(quote.case, user=user, action="revise_quote")
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        if not locked.is_issued:
            raise ValidationError(_("Seul un devis émis se révise."))
        if locked.status == Quote.Status.ACCEPTED:
            raise ValidationError(_("Un devis accepté ne se révise plus."))
        latest = (
            Quote.objects.filter(number=locked.number)
            .order_by("-revision")
            .values_list("revision", flat=True)
            .first()
        )
        if latest != locked.revision:
            raise ValidationError(
                _("Une version plus récente de ce devis existe déjà.")
            )
        if _open_draft(locked.case) is not None:
            raise ValidationError(
                _(
                    "Un brouillon de devis est déjà en cours sur ce dossier : "
                    "terminez-le ou supprimez-le d'abord."
                )
            )
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


# --- Quotes: sending and the public link ----------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_expiry(valid_until: date) -> datetime:
    """The end of the validity day, local time (the first instant after it)."""
    return timezone.make_aware(
        datetime.combine(valid_until + timedelta(days=1), time.min),
        timezone.get_current_timezone(),
    )


def public_url(token: str, base_url: str | None = None) -> str:
    # The configured address wins over the one of the request.
    base = (settings.PUBLIC_BASE_URL or base_url or "http://localhost:8000").rstrip("/")
    return base + reverse("documents:quote_public", args=[token])


def send_quote(quote: Quote, *, user, base_url: str | None = None) -> str:
    """E-mail the issued quote with its PDF and a fresh link; return the token.

    Sending again replaces the link (the previous one stops working). Raises
    ActionRefused or ValidationError; if the e-mail cannot be sent, nothing
    changes.
    """
    flow_services.check_can_act(quote.case, user=user, action="send_quote")
    with transaction.atomic():
        # No join: PostgreSQL refuses FOR UPDATE on the nullable side of one.
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        if not locked.is_issued:
            raise ValidationError(_("Émettez le devis avant de l'envoyer."))
        if locked.status not in (Quote.Status.DRAFT, Quote.Status.SENT):
            raise ValidationError(
                _("Ce devis a déjà reçu une réponse : créez une nouvelle version.")
            )
        if locked.superseded_at:
            raise ValidationError(_("Une version plus récente remplace ce devis."))
        if locked.valid_until < clock.today():
            raise ValidationError(
                _("La validité de ce devis est dépassée : créez une nouvelle version.")
            )
        recipient = locked.client_email or locked.case.email
        if not recipient:
            raise ValidationError(
                _("Indiquez l'e-mail du client (sur le devis ou le dossier).")
            )
        token = secrets.token_urlsafe(32)
        now = clock.now()
        locked.token_hash = hash_token(token)
        locked.token_expires_at = link_expiry(locked.valid_until)
        locked.status = Quote.Status.SENT
        locked.sent_at = now
        locked.sent_to = recipient
        locked._history_user = user
        locked._change_reason = "sent"
        clock.stamp_history(locked)
        locked.save()
        audit.record(
            "quote_sent",
            user=user,
            case=locked.case,
            obj=locked,
            data={
                "number": locked.number,
                "revision": locked.revision,
                "to": recipient,
                "link_expires_at": locked.token_expires_at.isoformat(),
            },
        )
        context = selectors.quote_document(locked) | {
            "link": public_url(token, base_url),
            "sender": user,
        }
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Devis %(reference)s — %(seller)s") % {
                "reference": locked.reference,
                "seller": locked.seller.get("legal_name", ""),
            }
            body = render_to_string("documents/email/quote_sent.txt", context)
        message = EmailMessage(
            subject=" ".join(subject.split()),
            body=body,
            to=[recipient],
            reply_to=[user.email] if getattr(user, "email", "") else None,
        )
        message.attach(locked.pdf.original_name, read_document(locked.pdf), uploads.PDF)
        # Last, inside the transaction: a failed send rolls everything back.
        message.send()
    return token


def record_link_opened(quote: Quote) -> None:
    audit.record(
        "quote_link_opened",
        actor_label=audit.CLIENT,
        case=quote.case,
        obj=quote,
        data={"number": quote.number, "revision": quote.revision},
    )


def record_public_download(quote: Quote) -> None:
    record_download(quote.pdf, user=None, actor_label=audit.CLIENT)


@dataclass
class Answer:
    quote: Quote
    moved_to: Status | None = None
    failures: list = field(default_factory=list)


def _answerable(token: str) -> Quote:
    quote = selectors.quote_for_token(token)
    if quote is None:
        raise QuoteLinkGone("unknown")
    state = selectors.link_state(quote)
    if state != "open":
        raise QuoteLinkGone(state)
    return quote


def accept_quote(
    token: str,
    *,
    name: str,
    ip: str | None,
    user_agent: str,
    comment: str = "",
    base_url: str | None = None,
) -> Answer:
    """Record the client's acceptance with its evidence and a signed copy.

    Exactly one answer wins: the status changes with `UPDATE … WHERE status =
    'sent'` and the row count is checked. Then, if the flow allows it for the
    client, the case moves to its won status. Raises QuoteLinkGone or
    ValidationError.
    """
    name = uploads.clean_text(name, 200)
    if len(name) < 2:
        raise ValidationError({"name": _("Indiquez votre nom complet.")})
    comment = (comment or "").strip()[:2000]
    user_agent = (user_agent or "")[:300]
    quote = _answerable(token)
    with _StoredFiles() as stored, transaction.atomic():
        now = clock.now()
        won = Quote.objects.filter(
            pk=quote.pk,
            status=Quote.Status.SENT,
            superseded_at__isnull=True,
            token_expires_at__gt=now,
        ).update(
            status=Quote.Status.ACCEPTED,
            accepted_name=name,
            accepted_at=now,
            accepted_ip=ip or None,
            accepted_user_agent=user_agent,
            accepted_comment=comment,
            accepted_pdf_sha256=quote.pdf.sha256,
        )
        if won != 1:
            quote.refresh_from_db()
            raise QuoteLinkGone(selectors.link_state(quote))
        quote = Quote.objects.select_related("pdf", "case").get(pk=quote.pk)
        original = read_document(quote.pdf)
        if hashlib.sha256(original).hexdigest() != quote.pdf.sha256:
            raise RuntimeError(f"stored PDF of {quote.reference} does not match")
        signed = pdf.append_pdf(original, pdf.render_certificate_pdf(quote))
        suffix = f"-v{quote.revision}" if quote.revision > 1 else ""
        quote.signed_document = _store_generated(
            quote.case,
            stored=stored,
            user=None,
            content=signed,
            category_code=SIGNED_CATEGORY,
            title=_("Devis %(number)s signé") % {"number": quote.number},
            original_name=f"{quote.number}{suffix}-signe.pdf",
            origin=Document.Origin.SIGNATURE,
        )
        quote._history_user = None
        quote._change_reason = "accepted online"
        clock.stamp_history(quote)
        quote.save()
        audit.record(
            "quote_accepted",
            actor_label=audit.CLIENT,
            case=quote.case,
            obj=quote,
            data={
                "number": quote.number,
                "revision": quote.revision,
                "name": name,
                "ip": ip,
                "user_agent": user_agent,
                "pdf_sha256": quote.accepted_pdf_sha256,
                "signed_sha256": quote.signed_document.sha256,
            },
        )
        webhooks.quote_accepted(quote)  # queued here, sent on commit
    answer = Answer(quote=quote)
    _move_to_won(answer)
    _notify(answer, accepted=True, base_url=base_url)
    return answer


def _move_to_won(answer: Answer) -> None:
    """Move the case to a won status when a transition allows the client."""
    quote = answer.quote
    case = Case.objects.get(pk=quote.case_id)
    transitions = _won_transitions(case)
    if not transitions:
        return
    reason = _("Devis %(reference)s accepté en ligne") % {"reference": quote.reference}
    for transition in transitions:
        failures = guards.evaluate(
            case,
            transition.target.code,
            user=None,
            reason=reason,
            transition=transition,
        )
        if failures:
            answer.failures = answer.failures or failures
            continue
        try:
            flow_services.move_case(
                case,
                transition.target.code,
                user=None,
                actor_label=audit.CLIENT,
                reason=reason,
            )
        except flow_services.TransitionBlocked as blocked:
            answer.failures = blocked.failures
        else:
            answer.moved_to = transition.target
            answer.failures = []
            return


def _won_transitions(case: Case) -> list[Transition]:
    """Moves from the case's status to a status of kind `won`."""
    return list(
        Transition.objects.select_related("source", "target")
        .filter(
            flow_id=case.flow_id,
            source__code=case.status,
            target__kind=Status.Kind.WON,
        )
        .order_by("target__position")
    )


def decline_quote(
    token: str,
    *,
    reason: str,
    ip: str | None,
    user_agent: str,
    base_url: str | None = None,
) -> Answer:
    """Record the client's refusal and its reason; raises QuoteLinkGone or ValidationError."""
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise ValidationError({"reason": _("Dites-nous en quelques mots pourquoi.")})
    user_agent = (user_agent or "")[:300]
    quote = _answerable(token)
    with transaction.atomic():
        now = clock.now()
        done = Quote.objects.filter(
            pk=quote.pk,
            status=Quote.Status.SENT,
            superseded_at__isnull=True,
            token_expires_at__gt=now,
        ).update(
            status=Quote.Status.DECLINED,
            declined_at=now,
            decline_reason=reason,
            declined_ip=ip or None,
            declined_user_agent=user_agent,
        )
        if done != 1:
            quote.refresh_from_db()
            raise QuoteLinkGone(selectors.link_state(quote))
        quote = Quote.objects.select_related("case").get(pk=quote.pk)
        quote._history_user = None
        quote._change_reason = "declined online"
        clock.stamp_history(quote)
        quote.save()
        audit.record(
            "quote_declined",
            actor_label=audit.CLIENT,
            case=quote.case,
            obj=quote,
            data={
                "number": quote.number,
                "revision": quote.revision,
                "reason": reason,
                "ip": ip,
                "user_agent": user_agent,
            },
        )
    answer = Answer(quote=quote)
    _notify(answer, accepted=False, base_url=base_url)
    return answer


def _notify(answer: Answer, *, accepted: bool, base_url: str | None) -> None:
    """Tell the case owner; on acceptance, send the client the signed copy.

    Runs after the commit: a mail failure is logged and never undoes the
    client's answer.
    """
    quote = answer.quote
    case = Case.objects.select_related("owner").get(pk=quote.case_id)
    # The in-app bell, besides the e-mail below.
    notifications.notify_quote_answered(
        quote, accepted, by=quote.accepted_name if accepted else ""
    )
    base = (settings.PUBLIC_BASE_URL or base_url or "").rstrip("/")
    context = {
        "quote": quote,
        "case": case,
        "accepted": accepted,
        "moved_to": answer.moved_to,
        "failures": answer.failures,
        "case_url": base + case.get_absolute_url(),
    }
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        if case.owner and case.owner.email:
            subject = (
                _("Devis %(reference)s accepté par %(name)s")
                if accepted
                else _("Devis %(reference)s refusé")
            ) % {"reference": quote.reference, "name": quote.accepted_name}
            messages.append(
                EmailMessage(
                    subject=" ".join(subject.split()),
                    body=render_to_string("documents/email/owner_notice.txt", context),
                    to=[case.owner.email],
                )
            )
        if accepted and quote.sent_to and quote.signed_document_id:
            receipt = EmailMessage(
                subject=" ".join(
                    (
                        _("Votre accord sur le devis %(reference)s")
                        % {"reference": quote.reference}
                    ).split()
                ),
                body=render_to_string("documents/email/client_receipt.txt", context),
                to=[quote.sent_to],
            )
            receipt.attach(
                quote.signed_document.original_name,
                read_document(quote.signed_document),
                uploads.PDF,
            )
            messages.append(receipt)
    for message in messages:
        try:
            message.send()
        except Exception:  # noqa: BLE001 - logged; the answer is recorded already
            logger.exception("could not send %r about %s", message.subject, quote)


def expire_quotes(*, today: date | None = None) -> int:
    """Mark sent quotes past their validity as expired; return how many."""
    today = today or clock.today()
    count = 0
    for quote in Quote.objects.filter(
        status=Quote.Status.SENT, valid_until__lt=today
    ).select_related("case"):
        with transaction.atomic():
            if (
                Quote.objects.filter(pk=quote.pk, status=Quote.Status.SENT).update(
                    status=Quote.Status.EXPIRED
                )
                != 1
            ):
                continue
            quote.refresh_from_db()
            quote._history_user = None
            quote._change_reason = "expired"
            clock.stamp_history(quote)
            quote.save()
            audit.record(
                "quote_expired",
                actor_label=audit.SYSTEM,
                case=quote.case,
                obj=quote,
                data={"number": quote.number, "revision": quote.revision},
            )
            count += 1
    return count
