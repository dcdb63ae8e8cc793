"""The daily reminder digest: one e-mail per person with something due.

`send_digests` is what `manage.py send_reminders` runs (from cron, or the
docker-compose service described in docs/follow-ups-and-insights.md). Each
person gets their digest at least once a day, and normally once: a
ReminderLog row keyed on (user, day) is written only after the mail has
left, so a second run the same day sends nothing new, while a send that
failed, or a process that died before it, leaves no row and the next run
sends that digest. Two runs started at the same moment may both send the
same digest (the row is checked again just before each send, which narrows
that window to one send); the unique key keeps one row. A person with
nothing due gets no e-mail and no log row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config import clock
from flows import access
from flows.engine import selectors
from flows.models import Case, Flow, ReminderLog, Status, UserPreference

SECTION_LIMIT = 20
SECTIONS = ("overdue", "due_today", "stale", "waiting_back")


@dataclass
class Section:
    key: str
    title: str
    cases: list[Case]
    more: bool = False


@dataclass
class Digest:
    user: object
    language: str
    day: date
    sections: list[Section] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(section.cases for section in self.sections)

    def counts(self) -> dict[str, int]:
        return {section.key: len(section.cases) for section in self.sections}


@dataclass
class Summary:
    sent: int = 0
    nothing_due: int = 0
    already_sent: int = 0
    failed: list[str] = field(default_factory=list)


def language_of(user) -> str:
    """The user's e-mail language: their saved preference, else French.

    A preference, not the browser's language at the last login: the digest
    is sent by a command, long after any request, and a person switching
    browsers should not switch their mail.
    """
    if hasattr(user, "pilote_digest_language"):  # loaded by recipients()
        preference = user.pilote_digest_language
    else:
        preference = (
            UserPreference.objects.filter(user=user)
            .values_list("language", flat=True)
            .first()
        )
    codes = {code for code, _name in settings.LANGUAGES}
    if preference in codes:
        return preference
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in codes else "fr"


def recipients():
    """Active team members with an e-mail who did not turn the digest off."""
    opted_out = UserPreference.objects.filter(daily_digest=False).values("user_id")
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=access.ROLES)
        .exclude(email="")
        .exclude(pk__in=opted_out)
        .distinct()
        .order_by("pk")
    )
    languages = dict(UserPreference.objects.values_list("user_id", "language"))
    for user in users:
        user.pilote_digest_language = languages.get(user.pk)
        yield user


def digest_for(user, *, flow: Flow, statuses: list[Status], day: date) -> Digest:
    """What `user` has due on `day`: overdue, due today, stale, clients back."""
    now = clock.now()
    mine = Case.objects.filter(flow=flow, owner=user, closed_at__isnull=True)
    with translation.override(language_of(user)):
        queries = [
            (
                "overdue",
                _("Relances en retard"),
                mine.filter(selectors.overdue_q(day)).order_by("next_action_due", "pk"),
            ),
            (
                "due_today",
                _("Pour aujourd'hui"),
                mine.filter(selectors.due_today_q(day)).order_by("reference"),
            ),
            (
                "stale",
                _("Dossiers hors délai"),
                mine.filter(selectors.stale_q(statuses, now)).order_by(
                    "status_entered_at", "pk"
                ),
            ),
            (
                "waiting_back",
                _("Retour du client prévu aujourd'hui"),
                mine.filter(selectors.waiting_ends_q(day)).order_by("reference"),
            ),
        ]
        digest = Digest(user=user, language=language_of(user), day=day)
        for key, title, cases in queries:
            rows = list(cases[: SECTION_LIMIT + 1])
            digest.sections.append(
                Section(
                    key=key,
                    title=str(title),
                    cases=selectors.decorate(rows[:SECTION_LIMIT], statuses),
                    more=len(rows) > SECTION_LIMIT,
                )
            )
    return digest


def render_digest(digest: Digest, *, base_url: str) -> EmailMultiAlternatives:
    """The e-mail of one digest, written in the recipient's language."""
    base_url = base_url.rstrip("/")
    with translation.override(digest.language):
        for section in digest.sections:
            for case in section.cases:
                case.url = base_url + case.get_absolute_url()
        total = sum(len(section.cases) for section in digest.sections)
        context = {
            "digest": digest,
            "user": digest.user,
            "name": access.display_name(digest.user),
            "day": digest.day,
            "base_url": base_url,
            "today_url": f"{base_url}/today/",
            "settings_url": f"{base_url}/notifications/",
        }
        subject = ngettext(
            "Pilote · %(count)s dossier à suivre aujourd'hui",
            "Pilote · %(count)s dossiers à suivre aujourd'hui",
            total,
        ) % {"count": total}
        text = render_to_string("emails/reminder_digest.txt", context)
        html = render_to_string("emails/reminder_digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[digest.user.email])
    message.attach_alternative(html, "text/html")
    return message


def _record_sent(*, user, day: date, counts: dict[str, int]) -> None:
    """Mark (user, day) as sent, once the mail has left.

    Written after the send, never before: a crash between the two then
    costs a second copy on the next run (at least once), not the day's
    digest. The unique (user, day) key keeps a second row out when two runs
    overlapped and both sent.
    """
    try:
        with transaction.atomic():
            ReminderLog.objects.create(
                user=user, day=day, sent_at=clock.now(), counts=counts
            )
    except IntegrityError:
        pass  # an overlapping run recorded it first; the mail left anyway


def send_digests(*, base_url: str, dry_run: bool = False) -> Summary:
    """Send today's digests; safe to run any number of times a day."""
    summary = Summary()
    statuses = selectors.active_statuses()
    if not statuses:
        return summary
    flow, day = statuses[0].flow, clock.today()
    already = set(ReminderLog.objects.filter(day=day).values_list("user_id", flat=True))
    for user in recipients():
        if user.pk in already:
            summary.already_sent += 1
            continue
        digest = digest_for(user, flow=flow, statuses=statuses, day=day)
        if digest.empty:
            summary.nothing_due += 1
            continue
        message = render_digest(digest, base_url=base_url)
        if dry_run:
            summary.sent += 1
            continue
        if ReminderLog.objects.filter(user=user, day=day).exists():
            summary.already_sent += 1  # another run sent it meanwhile
            continue
        try:
            message.send()
        except Exception as error:  # noqa: BLE001 (report, let the next run retry)
            summary.failed.append(f"{user.get_username()}: {error}")
            continue
        _record_sent(user=user, day=day, counts=digest.counts())
        summary.sent += 1
    return summary
