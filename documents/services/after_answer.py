"""What follows a client's answer, in a background task.

The public page records the answer and replies at once; `finish_answer`
(enqueued in the answer's transaction, once per quote) then makes the
signed copy with its certificate, moves the case to its won status when
the flow lets the client do it, and e-mails the owner and the client.
Every step checks what is done already, so a retried task repeats none of
them, except an e-mail whose send failed (e-mails go at least once; a
retry carries the same Message-ID).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock, tasks
from documents import pdf, uploads
from documents.models import Document, Quote
from documents.services.files import (
    SIGNED_CATEGORY,
    StoredFiles,
    read_document,
    store_generated,
)
from documents.services.locking import lock_quote
from flows.engine import guards
from flows.engine import services as flow_services
from flows.models import Case, Status, Transition


@dataclass
class Answer:
    quote: Quote
    moved_to: Status | None = None
    failures: list = field(default_factory=list)


# Retried for about five hours (30 s, 2, 8, 32, 128 minutes), then left
# failed for an admin to run again (admin › Tâches).
@tasks.background(max_attempts=6, first_retry=30)
def finish_answer(quote_id: int, *, base_url: str = "") -> str:
    quote = Quote.objects.select_related("case", "pdf").get(pk=quote_id)
    answer = Answer(quote=quote)
    if quote.status == Quote.Status.ACCEPTED:
        answer.quote = ensure_signed_copy(quote)
        move_to_won(answer)
    _mail(answer, accepted=quote.status == Quote.Status.ACCEPTED, base_url=base_url)
    return "done"


def ensure_signed_copy(quote: Quote) -> Quote:
    """The issued PDF followed by the acceptance certificate, stored once.

    Rendered before the transaction (a render takes a while), stored under
    the quote's lock, so two runs keep one copy.
    """
    if quote.signed_document_id:
        return quote
    original = read_document(quote.pdf)
    if hashlib.sha256(original).hexdigest() != quote.pdf.sha256:
        raise RuntimeError(f"stored PDF of {quote.reference} does not match")
    signed = pdf.append_pdf(original, pdf.render_certificate_pdf(quote))
    suffix = f"-v{quote.revision}" if quote.revision > 1 else ""
    with StoredFiles() as stored, transaction.atomic():
        locked, _versions = lock_quote(quote)
        if locked.signed_document_id:
            return Quote.objects.select_related("case", "signed_document").get(
                pk=quote.pk
            )
        locked.signed_document = store_generated(
            locked.case,
            stored=stored,
            user=None,
            content=signed,
            category_code=SIGNED_CATEGORY,
            title=_("Devis %(number)s signé") % {"number": locked.number},
            original_name=f"{locked.number}{suffix}-signe.pdf",
            origin=Document.Origin.SIGNATURE,
        )
        locked._history_user = None
        locked._change_reason = "signed copy"
        clock.stamp_history(locked)
        locked.save()
        audit.record(
            "quote_signed_copy",
            actor_label=audit.SYSTEM,
            case=locked.case,
            obj=locked,
            data={
                "number": locked.number,
                "revision": locked.revision,
                "pdf_sha256": locked.accepted_pdf_sha256,
                "signed_sha256": locked.signed_document.sha256,
            },
        )
    return Quote.objects.select_related("case", "signed_document").get(pk=quote.pk)


def move_to_won(answer: Answer) -> None:
    """Move the case to a won status when a transition allows the client."""
    quote = answer.quote
    case = Case.objects.get(pk=quote.case_id)
    current = Status.objects.filter(flow_id=case.flow_id, code=case.status).first()
    if current is not None and current.kind == Status.Kind.WON:
        answer.moved_to = current  # moved already (a retried task)
        return
    reason = _("Devis %(reference)s accepté en ligne") % {"reference": quote.reference}
    for transition in _won_transitions(case):
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


def _message_id(quote: Quote, what: str) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return f"<quote-{quote.pk}-{what}@{domain or 'pilote.invalid'}>"


def _mail(answer: Answer, *, accepted: bool, base_url: str) -> None:
    """Tell the owner by e-mail; on acceptance, send the client the signed copy."""
    quote = answer.quote
    case = Case.objects.select_related("owner").get(pk=quote.case_id)
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
                    headers={"Message-ID": _message_id(quote, "owner-notice")},
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
                headers={"Message-ID": _message_id(quote, "receipt")},
            )
            receipt.attach(
                quote.signed_document.original_name,
                read_document(quote.signed_document),
                uploads.PDF,
            )
            messages.append(receipt)
    for message in messages:
        message.send()  # a failure fails the task, which is retried
