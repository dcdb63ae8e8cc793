"""Sending a quote to the client, and the public link it carries."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock, tasks
from documents import selectors, uploads
from documents.models import Quote
from documents.services.files import read_document, record_download
from documents.services.locking import lock_quote, refuse_if_accepted_elsewhere
from flows.engine import services as flow_services


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_token(quote_pk: int, nonce: str) -> str:
    """The public link's token: HMAC of the quote and its nonce (256 bits).

    Only its hash is stored; the e-mail task derives it again, so no table
    holds a working link.
    """
    digest = salted_hmac(
        "pilote.quote-link", f"{quote_pk}:{nonce}", algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def message_id(quote: Quote) -> str:
    """One Message-ID per sending: a retried e-mail is the same message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return f"<quote-{quote.pk}-{quote.link_nonce}@{domain or 'pilote.invalid'}>"


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


def _sendable(quote: Quote) -> str:
    """The recipient, if the locked `quote` may be sent; else ValidationError."""
    if not quote.is_issued:
        raise ValidationError(_("Émettez le devis avant de l'envoyer."))
    if quote.status not in (Quote.Status.DRAFT, Quote.Status.SENT):
        raise ValidationError(
            _("Ce devis a déjà reçu une réponse : créez une nouvelle version.")
        )
    if quote.superseded_at:
        raise ValidationError(_("Une version plus récente remplace ce devis."))
    if quote.valid_until < clock.today():
        raise ValidationError(
            _("La validité de ce devis est dépassée : créez une nouvelle version.")
        )
    recipient = quote.client_email or quote.case.email
    if not recipient:
        raise ValidationError(
            _("Indiquez l'e-mail du client (sur le devis ou le dossier).")
        )
    return recipient


def _quote_email(
    quote: Quote, *, token: str, user, base_url: str | None
) -> EmailMessage:
    """The e-mail carrying the quote's PDF and its link, to `quote.sent_to`."""
    context = selectors.quote_document(quote) | {
        "link": public_url(token, base_url),
        "sender": user,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Devis %(reference)s — %(seller)s") % {
            "reference": quote.reference,
            "seller": quote.seller.get("legal_name", ""),
        }
        body = render_to_string("documents/email/quote_sent.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        to=[quote.sent_to],
        reply_to=[user.email] if getattr(user, "email", "") else None,
        headers={"Message-ID": message_id(quote)},
    )
    message.attach(quote.pdf.original_name, read_document(quote.pdf), uploads.PDF)
    return message


def send_quote(quote: Quote, *, user, base_url: str | None = None) -> str:
    """Send the issued quote with its PDF and a fresh link; return the token.

    The quote is marked sent and the e-mail enqueued in one transaction; a
    task sends it after the commit (`deliver_quote_email`), retried until it
    leaves, so a slow mail server never holds the case's lock. Sending
    again replaces the link (the previous one stops working). Raises
    ActionRefused, QuoteSettled (another version of the number is accepted)
    or ValidationError.
    """
    flow_services.check_can_act(quote.case, user=user, action="send_quote")
    with transaction.atomic():
        # Case, then every version: the order of issuing and accepting.
        locked, versions = lock_quote(quote)
        refuse_if_accepted_elsewhere(locked, versions)
        recipient = _sendable(locked)
        nonce = secrets.token_hex(16)
        token = link_token(locked.pk, nonce)
        now = clock.now()
        locked.token_hash = hash_token(token)
        locked.token_expires_at = link_expiry(locked.valid_until)
        locked.link_nonce = nonce
        locked.email_sent_at = None
        locked.email_error = ""
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
        tasks.enqueue(
            deliver_quote_email,
            locked.pk,
            nonce,
            sender_id=getattr(user, "pk", None),
            base_url=base_url or "",
        )
    return token


# Retried for about seven hours (1, 4, 16, 64, 256 minutes), then left
# failed for an admin to run again; the case page shows the error meanwhile.
@tasks.background(max_attempts=6, first_retry=60)
def deliver_quote_email(
    quote_id: int, nonce: str, *, sender_id: int | None, base_url: str
) -> str:
    """Send the e-mail of one sending of a quote, once; say what happened.

    Idempotent: nothing is sent when this sending was replaced, answered or
    already e-mailed. A failure is kept on the quote (the case page shows
    it) and raised, so the task is retried.
    """
    quote = Quote.objects.select_related("case", "pdf").filter(pk=quote_id).first()
    if quote is None or quote.link_nonce != nonce:
        return "replaced"
    if quote.email_sent_at is not None:
        return "already sent"
    if quote.status != Quote.Status.SENT or quote.superseded_at:
        return "answered"
    token = link_token(quote.pk, nonce)
    if hash_token(token) != quote.token_hash:
        quote.email_error = _("Le lien ne peut plus être écrit : envoyez à nouveau.")
        Quote.objects.filter(pk=quote.pk).update(email_error=quote.email_error)
        return "secret changed"
    sender = get_user_model().objects.filter(pk=sender_id).first()
    message = _quote_email(quote, token=token, user=sender, base_url=base_url or None)
    this_sending = Quote.objects.filter(pk=quote.pk, link_nonce=nonce)
    try:
        message.send()
    except Exception as error:
        this_sending.update(email_error=f"{type(error).__name__}: {error}"[:500])
        raise
    this_sending.update(email_sent_at=clock.now(), email_error="")
    return "sent"


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
