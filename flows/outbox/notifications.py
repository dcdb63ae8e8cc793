"""In-app notifications: the bell in the header and the /notifications/ page.

Services write them in the transaction of the action that causes them: a
rolled-back action notifies nobody, a committed one always has its
notification (exactly once, as nothing is sent). A notification stores its
kind and data; its text is written when it is displayed, in the reader's
language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from config import clock
from flows import access
from flows.models import Case, Notification

Kind = Notification.Kind

# "@louis", "@anne-marie", "@j.dupont" (Django usernames: letters, digits and
# @ . + - _). Not preceded by a word character, so e-mail addresses
# ("a@b.fr") are not mentions.
MENTION_RE = re.compile(r"(?<![\w.+-])@([\w.@+-]+)")


def _create(
    recipient_id: int,
    kind: str,
    *,
    case_id: int | None = None,
    actor_id: int | None = None,
    data: dict | None = None,
) -> Notification:
    return Notification.objects.create(
        recipient_id=recipient_id,
        kind=kind,
        case_id=case_id,
        actor_id=actor_id,
        data=data or {},
        created_at=clock.now(),
    )


# --- What the services call -----------------------------------------------------


def notify_assigned(case: Case, *, owner, by) -> None:
    """Tell `owner` that `by` gave them `case` (nothing when they took it)."""
    if owner is None or (by is not None and owner.pk == by.pk):
        return
    _create(
        recipient_id=owner.pk,
        kind=Kind.ASSIGNED,
        case_id=case.pk,
        actor_id=by.pk if by is not None else None,
        data={
            "by": access.display_name(by),
            "reference": case.reference,
            "title": case.title,
        },
    )


def mentioned_usernames(body: str) -> set[str]:
    return {match.rstrip(".@") for match in MENTION_RE.findall(body or "")}


def notify_mentions(case: Case, *, body: str, author, comment_id: int) -> None:
    """Tell each team member mentioned as @username in a comment."""
    names = mentioned_usernames(body)
    if not names:
        return
    users = (
        get_user_model()
        .objects.filter(
            username__in=names, is_active=True, groups__name__in=access.ROLES
        )
        .exclude(pk=author.pk if author is not None else None)
        .distinct()
    )
    excerpt = body if len(body) <= 160 else body[:157] + "…"
    for user_id in users.values_list("pk", flat=True):
        _create(
            recipient_id=user_id,
            kind=Kind.MENTION,
            case_id=case.pk,
            actor_id=author.pk if author is not None else None,
            data={
                "by": access.display_name(author),
                "reference": case.reference,
                "title": case.title,
                "excerpt": excerpt,
                "comment": comment_id,
            },
        )


def notify_move_blocked(
    case: Case, *, user, target_label: str, messages: Iterable[str]
) -> None:
    """Tell the owner that someone else's move of their case was refused."""
    if user is None or case.owner_id is None or case.owner_id == user.pk:
        return
    _create(
        recipient_id=case.owner_id,
        kind=Kind.MOVE_BLOCKED,
        case_id=case.pk,
        actor_id=user.pk,
        data={
            "by": access.display_name(user),
            "reference": case.reference,
            "title": case.title,
            "target": target_label,
            "reasons": list(messages),
        },
    )


def notify_quote_answered(quote_or_case, accepted: bool, *, by: str = "") -> None:
    """Tell the case owner that the client accepted or declined a quote.

    For the documents app: call it from the acceptance (or refusal) service,
    inside or outside its transaction. `quote_or_case` is a Quote (anything
    with a `case` and, optionally, a `number`) or a Case; `by` is who answered
    (the client's name as typed), if known. Nothing happens for an unassigned
    case.
    """
    case = quote_or_case if isinstance(quote_or_case, Case) else quote_or_case.case
    if case.owner_id is None:
        return
    number = "" if isinstance(quote_or_case, Case) else quote_or_case.number or ""
    _create(
        recipient_id=case.owner_id,
        kind=Kind.QUOTE_ACCEPTED if accepted else Kind.QUOTE_DECLINED,
        case_id=case.pk,
        data={
            "by": by,
            "reference": case.reference,
            "title": case.title,
            "quote": str(number),
        },
    )


# --- What the pages read ----------------------------------------------------------


def recent_for(user, *, limit: int = 50) -> list[Notification]:
    """The newest notifications of `user`, each with its `text`."""
    rows = list(
        Notification.objects.filter(recipient=user)
        .select_related("case")
        .order_by("-created_at", "-pk")[:limit]
    )
    for notification in rows:
        notification.text = text_of(notification)
    return rows


def mark_all_read(user) -> int:
    """Mark every unread notification of `user` read; return how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=clock.now()
    )


def text_of(notification: Notification) -> str:
    """The sentence shown for a notification, in the active language."""
    data = notification.data or {}
    values = {
        "by": data.get("by") or _("quelqu'un"),
        "reference": data.get("reference", ""),
        "title": data.get("title", ""),
        "target": data.get("target", ""),
        "quote": data.get("quote", ""),
    }
    kind = notification.kind
    if kind == Kind.ASSIGNED:
        return _("%(by)s vous a confié le dossier %(reference)s · %(title)s.") % values
    if kind == Kind.MENTION:
        return _("%(by)s vous a mentionné sur %(reference)s · %(title)s.") % values
    if kind == Kind.MOVE_BLOCKED:
        return (
            _(
                "%(by)s a essayé de passer votre dossier %(reference)s à "
                "« %(target)s » : refusé."
            )
            % values
        )
    if kind == Kind.QUOTE_ACCEPTED:
        if values["quote"]:
            return _("Le client a accepté le devis %(quote)s (%(reference)s).") % values
        return _("Le client a accepté le devis de %(reference)s.") % values
    if kind == Kind.QUOTE_DECLINED:
        if values["quote"]:
            return _("Le client a refusé le devis %(quote)s (%(reference)s).") % values
        return _("Le client a refusé le devis de %(reference)s.") % values
    return str(notification.get_kind_display())
