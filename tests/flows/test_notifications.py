"""In-app notifications: who is told what, on commit only, and the bell."""

from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from flows.engine import services
from flows.models import Notification, UserPreference
from flows.outbox import notifications
from tests.conftest import make_user
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(default_flow, member):
    return CaseFactory(flow=default_flow, owner=member, title="Vitrine", email="")


def _kinds(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def test_assigning_a_case_tells_the_new_owner(
    case, member, other_member, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_case(case, user=manager, owner=other_member)
    notification = Notification.objects.get()
    assert notification.recipient == other_member
    assert notification.kind == "assigned" and notification.case == case
    assert notification.actor == manager
    assert notifications.text_of(notification) == (
        f"Manon vous a confié le dossier {case.reference} · Vitrine."
    )


def test_taking_a_case_yourself_notifies_nobody(
    default_flow, member, manager, django_capture_on_commit_callbacks
):
    lead = CaseFactory(flow=default_flow, owner=None, user=manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_case(lead, user=member, owner=member)
    assert not Notification.objects.exists()


def test_nothing_is_notified_before_the_commit(case, other_member, manager):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.assign_case(case, user=manager, owner=other_member)
        raise RuntimeError("rolled back")
    assert not Notification.objects.exists()


def test_a_mention_in_a_comment_tells_that_person(
    case,
    member,
    other_member,
    manager,
    django_user_model,
    django_capture_on_commit_callbacks,
):
    make_user(django_user_model, "outsider", None)  # no role: never notified
    body = "@sarah peux-tu rappeler ? Copie @manon, @louis, @outsider, @nobody et a@manon.fr."
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(case, user=member, body=body)
    assert _kinds(other_member) == ["mention"]
    assert _kinds(manager) == ["mention"]
    assert _kinds(member) == []  # the author mentioning themself
    assert Notification.objects.count() == 2
    mention = Notification.objects.get(recipient=other_member)
    assert mention.data["excerpt"] == body
    assert "vous a mentionné sur" in notifications.text_of(mention)


def test_mentions_are_parsed_like_usernames():
    names = notifications.mentioned_usernames(
        "Merci @jean.dupont. Voir @anne-marie, mail x@y.fr, fin @louis"
    )
    assert names == {"jean.dupont", "anne-marie", "louis"}


def test_a_blocked_move_by_someone_else_tells_the_owner(
    case, member, other_member, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.TransitionBlocked),
    ):
        services.move_case(case, "qualifie", user=other_member)
    notification = Notification.objects.get()
    assert notification.recipient == member and notification.kind == "move_blocked"
    assert notification.data["target"] == "Qualifié"
    assert any("Checklist" in reason for reason in notification.data["reasons"])
    assert "a essayé de passer votre dossier" in notifications.text_of(notification)


def test_my_own_blocked_move_notifies_nobody(
    case, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(services.TransitionBlocked):
            services.move_case(case, "qualifie", user=member)
        with pytest.raises(services.TransitionBlocked):
            services.move_case(case, "perdu", user=member)
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("accepted", "kind", "words"),
    [(True, "quote_accepted", "a accepté"), (False, "quote_declined", "a refusé")],
)
def test_a_quote_answer_tells_the_owner(
    case, member, accepted, kind, words, django_capture_on_commit_callbacks
):
    quote = SimpleNamespace(case=case, number="DEV-2026-0007")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_quote_answered(quote, accepted, by="Jeanne Client")
        notifications.notify_quote_answered(case, accepted)
    first, second = Notification.objects.order_by("pk")
    assert first.recipient == member and first.kind == kind
    assert (
        first.data["quote"] == "DEV-2026-0007" and first.data["by"] == "Jeanne Client"
    )
    assert words in notifications.text_of(first)
    assert "DEV-2026-0007" in notifications.text_of(first)
    assert words in notifications.text_of(second)


def test_a_quote_answer_on_an_unassigned_case_tells_nobody(
    default_flow, manager, django_capture_on_commit_callbacks
):
    lead = CaseFactory(flow=default_flow, owner=None, user=manager)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_quote_answered(lead, True)
    assert not Notification.objects.exists()


# --- The bell and the page ----------------------------------------------------------


def _notify(user, case, n=1):
    for _ in range(n):
        Notification.objects.create(
            recipient=user,
            kind="assigned",
            case=case,
            data={"by": "Manon", "reference": case.reference, "title": case.title},
        )


def test_the_bell_shows_the_unread_count(client, member, case):
    _notify(member, case, 3)
    client.force_login(member)
    html = client.get(reverse("flows:board")).content.decode()
    assert 'href="/notifications/"' in html
    assert '<span class="bell-count">3<span class="visually-hidden"> non lues' in html


def test_the_bell_rides_in_the_role_query(client, member, case):
    """The unread count costs no query of its own: it is read with the role."""
    client.force_login(member)
    board = reverse("flows:board")
    client.get(board)

    def bell_queries(url=board, **kwargs) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, **kwargs).status_code == 200
        return [
            q["sql"]
            for q in queries.captured_queries
            if "flows_notification" in q["sql"]
        ]

    [sql] = bell_queries()
    assert "auth_group" in sql  # the same query tells the role
    assert len(bell_queries(headers={"HX-Request": "true"})) <= 1
    client.logout()
    assert bell_queries(reverse("login")) == []  # anonymous: no bell


def test_notification_page_lists_and_marks_read(client, member, other_member, case):
    _notify(member, case, 2)
    _notify(other_member, case)
    client.force_login(member)
    response = client.get(reverse("flows:notifications"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="notification is-unread"') == 2
    assert f"vous a confié le dossier {case.reference}" in html
    assert f'href="{case.get_absolute_url()}"' in html
    response = client.post(reverse("flows:notifications_read"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=member, read_at__isnull=True)
    # Someone else's are untouched.
    assert Notification.objects.filter(recipient=other_member, read_at__isnull=True)
    html = client.get(reverse("flows:notifications")).content.decode()
    assert "is-unread" not in html and "bell-count" not in html


def test_mark_read_needs_a_post(client, member):
    client.force_login(member)
    assert client.get(reverse("flows:notifications_read")).status_code == 405


def test_reminder_preferences_are_saved(client, member):
    client.force_login(member)
    response = client.post(
        reverse("flows:notification_preferences"),
        {"language": "en", "daily_digest": ""},
    )
    assert response.status_code == 302
    preference = UserPreference.objects.get(user=member)
    assert preference.language == "en" and preference.daily_digest is False
    response = client.post(
        reverse("flows:notification_preferences"), {"language": "xx"}
    )
    assert response.status_code == 200
    assert UserPreference.objects.get(user=member).language == "en"


def test_notifications_need_a_login(client):
    response = client.get(reverse("flows:notifications"))
    assert response.status_code == 302
