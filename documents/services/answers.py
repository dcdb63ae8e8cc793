"""The client's answer through the public link: accept, decline; expiry.

Runs without a user: the actor is the client (or the system, for expiry).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock, tasks
from documents import selectors, uploads
from documents.models import Quote
from documents.services.after_answer import Answer, finish_answer
from documents.services.locking import lock_quote, refuse_if_accepted_elsewhere
from flows.outbox import notifications, webhooks


class QuoteLinkGone(Exception):
    """The public link no longer accepts answers; `.state` says why."""

    def __init__(self, state: str):
        self.state = state
        super().__init__(state)


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
    """Record the client's acceptance with its evidence; answer at once.

    Exactly one answer wins: the status changes with `UPDATE … WHERE status =
    'sent'` and the row count is checked. The signed copy, the move to the
    won status (when the flow allows it for the client) and the e-mails
    follow in a task (`after_answer.finish_answer`). Raises QuoteLinkGone,
    QuoteSettled (another version of the number is accepted) or
    ValidationError.
    """
    name = uploads.clean_text(name, 200)
    if len(name) < 2:
        raise ValidationError({"name": _("Indiquez votre nom complet.")})
    comment = (comment or "").strip()[:2000]
    user_agent = (user_agent or "")[:300]
    quote = _answerable(token)
    with transaction.atomic():
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
        quote._history_user = None
        quote._change_reason = "accepted online"
        clock.stamp_history(quote)
        quote.save()
        _record_acceptance(quote, ip=ip)
        webhooks.quote_accepted(quote)  # queued here, sent on commit
        _after(quote, accepted=True, base_url=base_url)
    return Answer(quote=quote)


def _after(quote: Quote, *, accepted: bool, base_url: str | None) -> None:
    """In the answer's transaction: the owner's bell, and the task that follows."""
    notifications.notify_quote_answered(
        quote, accepted, by=quote.accepted_name if accepted else ""
    )
    tasks.enqueue(
        finish_answer, quote.pk, base_url=base_url or "", key=f"quote-answer:{quote.pk}"
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
        _after(quote, accepted=False, base_url=base_url)
    return Answer(quote=quote)


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
