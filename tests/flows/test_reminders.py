"""The daily digest: content per person, language, once a day, nothing if nothing due."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from config import clock
from flows.engine import services
from flows.models import Case, ReminderLog, UserPreference
from flows.workspace import reminders
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2026, 3, 4)
BASE = "https://pilote.example"


def morning(day: date = WEDNESDAY) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(7)))


@pytest.fixture
def day(default_flow, member, other_member, manager):
    """Louis has one case in each section; Sarah has nothing due; Manon one."""
    with clock.frozen_at(morning() - timedelta(days=1)):
        cases = {
            "overdue": CaseFactory(
                flow=default_flow,
                owner=member,
                title="Relance oubliée",
                next_action="Relancer le devis",
                next_action_due=WEDNESDAY - timedelta(days=2),
            ),
            "today": CaseFactory(
                flow=default_flow,
                owner=member,
                title="Appel du jour",
                next_action="Appeler",
                next_action_due=WEDNESDAY,
            ),
            "stale": CaseFactory(flow=default_flow, owner=member, title="Qui dort"),
            "back": CaseFactory(flow=default_flow, owner=member, title="Retour"),
            "later": CaseFactory(flow=default_flow, owner=member, title="Plus tard"),
            "sarah": CaseFactory(flow=default_flow, owner=other_member, title="Sarah"),
            "manon": CaseFactory(
                flow=default_flow,
                owner=manager,
                title="Chez Manon",
                next_action_due=WEDNESDAY - timedelta(days=1),
            ),
        }
        services.start_waiting(
            cases["back"], user=member, reason="Attend l'accord", until=WEDNESDAY
        )
    Case.objects.filter(pk=cases["stale"].pk).update(
        status_entered_at=morning() - timedelta(days=6)
    )
    UserPreference.objects.create(user=manager, language="en")
    return cases


def _send(**kwargs):
    with clock.frozen_at(morning()):
        return reminders.send_digests(base_url=BASE, **kwargs)


def _mail_to(user):
    return [message for message in mail.outbox if message.to == [user.email]]


def test_each_person_gets_their_own_digest(day, member, other_member, manager):
    summary = _send()
    assert (summary.sent, summary.nothing_due, summary.already_sent) == (2, 1, 0)
    assert not _mail_to(other_member)  # nothing due: no e-mail
    (message,) = _mail_to(member)
    assert message.subject == "Pilote · 4 dossiers à suivre aujourd'hui"
    body = message.body
    sections = ["RELANCES EN RETARD", "POUR AUJOURD'HUI", "DOSSIERS HORS DÉLAI"]
    sections.append("RETOUR DU CLIENT PRÉVU AUJOURD'HUI")
    positions = [body.index(title) for title in sections]
    assert positions == sorted(positions)
    for name in ("overdue", "today", "stale", "back"):
        case = day[name]
        assert f"{case.reference} · {case.title}" in body
        assert f"{BASE}/cases/{case.reference}/" in body
    assert "Relancer le devis" in body
    assert "Attendu du client : Attend l'accord" in body
    assert "Plus tard" not in body and "Chez Manon" not in body
    assert "mercredi 4 mars 2026" in body
    html = message.alternatives[0][0]
    assert '<html lang="fr">' in html
    assert f'<a href="{BASE}/cases/{day["overdue"].reference}/">' in html


def test_the_digest_is_written_in_the_persons_language(day, manager):
    _send()
    (message,) = _mail_to(manager)
    assert "Wednesday 4 March 2026" in message.body
    assert '<html lang="en">' in message.alternatives[0][0]
    assert day["manon"].reference in message.body


def test_running_twice_the_same_day_sends_nothing_new(day, member, manager):
    _send()
    assert len(mail.outbox) == 2
    summary = _send()
    assert (summary.sent, summary.already_sent) == (0, 2)
    assert len(mail.outbox) == 2
    log = ReminderLog.objects.get(user=member, day=WEDNESDAY)
    assert log.counts == {"overdue": 1, "due_today": 1, "stale": 1, "waiting_back": 1}
    # The next day is a new day.
    with clock.frozen_at(morning(WEDNESDAY + timedelta(days=1))):
        summary = reminders.send_digests(base_url=BASE)
    assert summary.sent == 2 and len(mail.outbox) == 4


def test_a_waiting_case_is_left_out_until_its_return(day, member):
    with clock.frozen_at(morning() - timedelta(days=1)):
        services.start_waiting(
            day["overdue"],
            user=member,
            reason="Congés",
            until=WEDNESDAY + timedelta(days=3),
        )
    _send()
    (message,) = _mail_to(member)
    assert day["overdue"].reference not in message.body


def test_people_who_opted_out_or_have_no_email_get_nothing(day, member, manager):
    UserPreference.objects.create(user=member, daily_digest=False)
    manager.email = ""
    manager.save()
    summary = _send()
    assert summary.sent == 0 and not mail.outbox
    assert not ReminderLog.objects.exists()


def test_dry_run_sends_and_records_nothing(day):
    summary = _send(dry_run=True)
    assert summary.sent == 2
    assert not mail.outbox and not ReminderLog.objects.exists()


def test_a_failed_send_is_retried_by_the_next_run(day, monkeypatch, member):
    def refuse(message, fail_silently=False):
        raise OSError("SMTP down")

    monkeypatch.setattr(reminders.EmailMultiAlternatives, "send", refuse)
    summary = _send()
    assert summary.sent == 0 and len(summary.failed) == 2
    assert not ReminderLog.objects.exists()
    monkeypatch.undo()
    assert _send().sent == 2


def test_the_command_reports_and_fails_loudly(day, monkeypatch, capsys):
    with clock.frozen_at(morning()):
        call_command("send_reminders", "--base-url", BASE)
    assert "Reminders: 2 sent, 0 already sent today, 1 with nothing due." in (
        capsys.readouterr().out
    )
    assert len(mail.outbox) == 2

    def refuse(message, fail_silently=False):
        raise OSError("SMTP down")

    monkeypatch.setattr(reminders.EmailMultiAlternatives, "send", refuse)
    with (
        clock.frozen_at(morning(WEDNESDAY + timedelta(days=1))),
        pytest.raises(CommandError, match="SMTP down"),
    ):
        call_command("send_reminders", "--base-url", BASE)


def test_a_crash_during_the_send_leaves_the_digest_for_the_next_run(day, monkeypatch):
    """A process dying mid-send records nothing: the next run still sends."""

    def crash(message, fail_silently=False):
        raise SystemExit("killed")  # not an Exception: nothing catches it

    monkeypatch.setattr(reminders.EmailMultiAlternatives, "send", crash)
    with pytest.raises(SystemExit):
        _send()
    assert not ReminderLog.objects.exists()
    monkeypatch.undo()
    summary = _send()
    assert (summary.sent, summary.already_sent) == (2, 0)
    assert len(mail.outbox) == 2
    assert ReminderLog.objects.count() == 2


def test_the_log_row_is_written_after_the_mail_left(day, monkeypatch, member):
    """At the moment of the send, (user, day) is not yet marked as sent."""
    seen = []
    real_send = reminders.EmailMultiAlternatives.send

    def send(message, fail_silently=False):
        seen.append(ReminderLog.objects.filter(day=WEDNESDAY).count())
        return real_send(message, fail_silently)

    monkeypatch.setattr(reminders.EmailMultiAlternatives, "send", send)
    _send()
    assert seen == [0, 1]
    assert ReminderLog.objects.count() == 2
