"""The public lead form (/lead/ and /lead/embed/), off until an admin enables it.

A submission creates a case in the initial status with source "formulaire"
through `services.create_case` (the client acting), assigned by the admin's
rule, and tells its owner; a submission from a contact who already has an
open case (same e-mail or phone) becomes a comment on that case instead.

Spam protection without third parties: a honeypot field, a minimum fill
time (a signed timestamp given with the form, good for one submission),
and a per-IP rate limit (`config.ratelimit`, counted by the view). Every field is normalised;
whatever may reach an e-mail header is folded onto one line.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from enum import Enum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock
from flows import access
from flows.engine import duplicates, selectors, services
from flows.intake.imports.parsing import one_line, working_days_after
from flows.models import Case, LeadFormSettings
from flows.outbox import notifications

logger = logging.getLogger(__name__)

SOURCE = "formulaire"
HONEYPOT = "website"
TOKEN = "started"
_SALT = "pilote.leadform"
# A form older than this is refused (fetch it again): a replayed token is
# worth one day at most.
TOKEN_MAX_AGE = 24 * 60 * 60


def lead_settings() -> LeadFormSettings:
    """The one settings row (created, disabled, on first use)."""
    row, _created = LeadFormSettings.objects.get_or_create(pk=1)
    return row


# --- Spam guards --------------------------------------------------------------------


def new_token() -> str:
    return signing.TimestampSigner(salt=_SALT).sign(secrets.token_hex(8))


class Verdict(Enum):
    OK = "ok"
    HONEYPOT = "honeypot"
    TOO_FAST = "too_fast"
    EXPIRED = "expired"
    REPLAYED = "replayed"


def verdict(data) -> Verdict:
    """What the hidden fields say about who filled the form.

    A token is good for one submission: the first one that passes the
    other checks spends it (every page shown carries a fresh one, an
    invalid form too), so a replayed token is a script or a double send.
    """
    if (data.get(HONEYPOT) or "").strip():
        return Verdict.HONEYPOT
    token = data.get(TOKEN) or ""
    try:
        nonce = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=TOKEN_MAX_AGE)
        issued = signing.b62_decode(token.rsplit(":", 2)[1])
    except (signing.BadSignature, IndexError, ValueError):
        return Verdict.EXPIRED
    if time.time() - issued < settings.LEAD_FORM_MIN_SECONDS:
        return Verdict.TOO_FAST
    # add() is atomic: of two submissions at once, exactly one spends it.
    # Kept as long as the token is valid; in the shared cache (REDIS_URL),
    # every worker sees it.
    if not cache.add(f"leadform-token:{nonce}", 1, timeout=TOKEN_MAX_AGE + 60):
        return Verdict.REPLAYED
    return Verdict.OK


# --- Submitting ------------------------------------------------------------------------


class LeadFormClosed(Exception):
    """The form is disabled, or no flow is active."""


@dataclass
class Outcome:
    case: Case
    created: bool  # False: a comment on an existing open case


def _open_duplicate(email: str, phone: str) -> Case | None:
    """The newest open case with the same e-mail or phone."""
    if not (email or phone):
        return None
    for case, fields in duplicates.duplicate_candidates(
        email=email, phone=phone, limit=50
    ):
        if case.closed_at is None and {"email", "phone"} & set(fields):
            return case
    return None


def _next_owner(row: LeadFormSettings):
    """The owner by the admin's rule; None (unassigned) when nobody fits.

    Round robin among active members and managers, in a stable order; the
    settings row is locked, so two leads at once get two people.
    """
    row = LeadFormSettings.objects.select_for_update().get(pk=row.pk)
    if row.assignment == LeadFormSettings.Assignment.FIXED:
        owner = row.fixed_owner
        if owner is not None and owner.is_active and access.is_member(owner):
            return owner
        return None
    candidates = list(
        get_user_model()
        .objects.filter(
            is_active=True, groups__name__in=[access.MEMBER, access.MANAGER]
        )
        .distinct()
        .order_by("pk")
    )
    if not candidates:
        return None
    last = row.last_owner_id
    owner = next((u for u in candidates if last is None or u.pk > last), candidates[0])
    row.last_owner = owner
    row.save(update_fields=["last_owner"])
    return owner


def _summary(data: dict) -> str:
    lines = [_("Demande reçue par le formulaire du site :")]
    for label, key in (
        (_("Nom"), "contact_name"),
        (_("E-mail"), "email"),
        (_("Téléphone"), "phone"),
        (_("Société"), "company"),
    ):
        if data.get(key):
            lines.append(
                _("%(label)s : %(value)s") % {"label": label, "value": data[key]}
            )
    if data.get("message"):
        lines += ["", data["message"]]
    return "\n".join(lines)


def submit_lead(data: dict, *, base_url: str = "") -> Outcome:
    """Create the lead's case (or comment on its open case) and tell the owner.

    `data` is a valid `forms.LeadForm`'s cleaned data. Raises LeadFormClosed.
    """
    row = lead_settings()
    flow = selectors.active_flow()
    if not row.enabled or flow is None:
        raise LeadFormClosed
    name = one_line(data["contact_name"])
    email, phone = data.get("email", ""), data.get("phone", "")
    company = one_line(data.get("company", ""))
    with transaction.atomic():
        existing = _open_duplicate(email, phone)
        if existing is not None:
            services.add_comment(
                existing, user=None, actor_label=audit.CLIENT, body=_summary(data)
            )
            outcome = Outcome(case=existing, created=False)
        else:
            owner = _next_owner(row)
            title = _("Demande de %(name)s") % {"name": company or name}
            case = services.create_case(
                flow=flow,
                user=None,
                owner=owner,
                actor_label=audit.CLIENT,
                title=title[:200],
                contact_name=name,
                company=company,
                email=email,
                phone=phone,
                source=SOURCE,
                next_action=_("Rappeler le contact"),
                next_action_due=working_days_after(clock.today(), 1),
            )
            if data.get("message"):
                services.add_comment(
                    case, user=None, actor_label=audit.CLIENT, body=_summary(data)
                )
            notifications.notify_assigned(case, owner=owner, by=None)
            outcome = Outcome(case=case, created=True)
        case_id = outcome.case.pk
        transaction.on_commit(
            lambda: _mail_owner(
                case_id, data, created=outcome.created, base_url=base_url
            )
        )
    return outcome


def _mail_owner(case_id: int, data: dict, *, created: bool, base_url: str) -> None:
    """E-mail the owner (after the commit; a mail failure is only logged)."""
    case = Case.objects.select_related("owner").get(pk=case_id)
    owner = case.owner
    if owner is None or not owner.email:
        return
    base = (settings.PUBLIC_BASE_URL or base_url or "").rstrip("/")
    name = one_line(data.get("contact_name", ""))
    with translation.override(settings.LANGUAGE_CODE):
        if created:
            subject = _("Nouvelle demande : %(name)s") % {"name": name}
        else:
            subject = _("Nouveau message de %(name)s (%(reference)s)") % {
                "name": name,
                "reference": case.reference,
            }
        body = "\n".join(
            [
                _summary(data),
                "",
                f"{case.reference} · {case.title}",
                base + case.get_absolute_url(),
            ]
        )
    reply_to = [data["email"]] if data.get("email") else None
    message = EmailMessage(
        subject=one_line(subject)[:200], body=body, to=[owner.email], reply_to=reply_to
    )
    try:
        message.send()
    except Exception:  # noqa: BLE001 - logged; the lead is recorded already
        logger.exception("could not tell %s about lead %s", owner, case.reference)
