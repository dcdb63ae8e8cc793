"""The client's answer through the public link: accept, decline; expiry.

Runs without a user: the actor is the client (or the system, for expiry).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock
from documents import pdf, selectors, uploads
from documents.models import Document, Quote
from documents.services.files import (
    SIGNED_CATEGORY,
    StoredFiles,
    read_document,
    store_generated,
)
from documents.services.locking import lock_quote, refuse_if_accepted_elsewhere
from flows.engine import guards
from flows.engine import services as flow_services
from flows.models import Case, Status, Transition
from flows.outbox import notifications, webhooks

logger = logging.getLogger(__name__)


class QuoteLinkGone(Exception):
    """The public link no longer accepts answers; `.state` says why."""

    def __init__(self, state: str):
        self.state = state
        super().__init__(state)


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


def _answer_once(quote: Quote, *, now, **fields) -> None:
    """Write the client's answer if the quote is still open to one.

    One conditional UPDATE (`WHERE status = 'sent'` and not superseded or
    expired): of two answers sent at once, exactly one counts; the other
    gets QuoteLinkGone with the state the first left.
    """
    answered = Quote.objects.filter(
        pk=quote.pk,
        status=Quote.Status.SENT,
        superseded_at__isnull=True,
        token_expires_at__gt=now,
    ).update(**fields)
    if answered != 1:
        quote.refresh_from_db()
        raise QuoteLinkGone(selectors.link_state(quote))


def _signed_copy(quote: Quote, *, stored: StoredFiles) -> Document:
    """Store the issued PDF followed by the acceptance certificate."""
    original = read_document(quote.pdf)
    if hashlib.sha256(original).hexdigest() != quote.pdf.sha256:
        raise RuntimeError(f"stored PDF of {quote.reference} does not match")
    signed = pdf.append_pdf(original, pdf.render_certificate_pdf(quote))
    suffix = f"-v{quote.revision}" if quote.revision > 1 else ""
    return store_generated(
        quote.case,
        stored=stored,
        user=None,
        content=signed,
        category_code=SIGNED_CATEGORY,
        title=_("Devis %(number)s signé") % {"number": quote.number},
        original_name=f"{quote.number}{suffix}-signe.pdf",
        origin=Document.Origin.SIGNATURE,
    )


def _record_acceptance(quote: Quote, *, ip: str | None) -> None:
    """The audit event of an acceptance, with its evidence."""
    audit.record(
        "quote_accepted",
        actor_label=audit.CLIENT,
        case=quote.case,
        obj=quote,
        data={
            "number": quote.number,
            "revision": quote.revision,
            "name": quote.accepted_name,
            "ip": ip,
            "user_agent": quote.accepted_user_agent,
            "pdf_sha256": quote.accepted_pdf_sha256,
            "signed_sha256": quote.signed_document.sha256,
        },
    )


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
    client, the case moves to its won status. Raises QuoteLinkGone,
    QuoteSettled (another version of the number is accepted) or
    ValidationError.
    """
    name = uploads.clean_text(name, 200)
    if len(name) < 2:
        raise ValidationError({"name": _("Indiquez votre nom complet.")})
    comment = (comment or "").strip()[:2000]
    user_agent = (user_agent or "")[:300]
    quote = _answerable(token)
    with StoredFiles() as stored, transaction.atomic():
        # Case, then every version (the order of issuing), before the UPDATE.
        locked, versions = lock_quote(quote)
        refuse_if_accepted_elsewhere(locked, versions)
        now = clock.now()
        _answer_once(
            quote,
            now=now,
            status=Quote.Status.ACCEPTED,
            accepted_name=name,
            accepted_at=now,
            accepted_ip=ip or None,
            accepted_user_agent=user_agent,
            accepted_comment=comment,
            accepted_pdf_sha256=quote.pdf.sha256,
        )
        quote = Quote.objects.select_related("pdf", "case").get(pk=quote.pk)
        quote.signed_document = _signed_copy(quote, stored=stored)
        quote._history_user = None
        quote._change_reason = "accepted online"
        clock.stamp_history(quote)
        quote.save()
        _record_acceptance(quote, ip=ip)
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
        lock_quote(quote)  # case, then every version: one order for all
        now = clock.now()
        _answer_once(
            quote,
            now=now,
            status=Quote.Status.DECLINED,
            declined_at=now,
            decline_reason=reason,
            declined_ip=ip or None,
            declined_user_agent=user_agent,
        )
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
