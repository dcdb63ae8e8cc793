"""Every important action leaves exactly one event, with the right actor."""

import contextlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from config import clock
from flows import access
from flows.engine import services
from flows.models import ChecklistItem, Status
from tests.conftest import PASSWORD
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _events_during(action_callable) -> list[AuditEvent]:
    last = (
        AuditEvent.objects.order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
        or 0
    )
    action_callable()
    return list(AuditEvent.objects.filter(sequence__gt=last).order_by("sequence"))


@pytest.fixture
def case(default_flow, member):
    return CaseFactory(flow=default_flow, owner=member, email="", phone="")


def _login(client):
    client.post(
        reverse("login"),
        {"username": "louis", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="Firefox/130",
    )


def _failed_login(client):
    client.post(reverse("login"), {"username": "louis", "password": "nope"})


# (name, setup returning a callable, expected action, expected actor label)
def _cases(client, member, other_member, manager, admin_user, default_flow, case):
    manual = ChecklistItem.objects.get(status__code="nouveau", kind="manual")

    def tick():
        services.set_checklist_item(case, manual, user=member, done=True)

    def untick():
        services.set_checklist_item(case, manual, user=member, done=True)
        return lambda: services.set_checklist_item(
            case, manual, user=member, done=False
        )

    return {
        "login": (lambda: None, lambda: _login(client), ["login"], "louis"),
        "failed login": (
            lambda: None,
            lambda: _failed_login(client),
            ["login_failed"],
            "anonymous",
        ),
        "logout": (
            lambda: client.force_login(member),
            lambda: client.post(reverse("logout")),
            ["logout"],
            "louis",
        ),
        "case created": (
            lambda: None,
            lambda: services.create_case(
                flow=default_flow,
                user=member,
                owner=member,
                title="Nouveau",
                next_action="Rappeler",
                next_action_due=timezone.localdate(),
            ),
            ["case_created"],
            "louis",
        ),
        "case updated": (
            lambda: None,
            lambda: services.update_case(
                case, user=member, changes={"title": "Autre titre", "company": "ACME"}
            ),
            ["case_updated"],
            "louis",
        ),
        "move": (
            lambda: None,
            lambda: services.move_case(case, "perdu", user=member, reason="Budget"),
            ["transition"],
            "louis",
        ),
        "blocked move": (
            lambda: None,
            lambda: _swallow(lambda: services.move_case(case, "qualifie", user=member)),
            ["transition_blocked"],
            "louis",
        ),
        "override": (
            lambda: None,
            lambda: services.move_case(
                case, "qualifie", user=manager, override=True, reason="Vu au téléphone"
            ),
            ["transition_override"],
            "manon",
        ),
        "checklist ticked": (lambda: None, tick, ["checklist_ticked"], "louis"),
        "checklist unticked": (untick, None, ["checklist_unticked"], "louis"),
        "comment": (
            lambda: None,
            lambda: services.add_comment(case, user=other_member, body="Vu"),
            ["comment_added"],
            "sarah",
        ),
        "owner change": (
            lambda: None,
            lambda: services.assign_case(case, user=manager, owner=other_member),
            ["owner_changed"],
            "manon",
        ),
        "permission denied": (
            lambda: client.force_login(other_member),
            lambda: client.post(
                reverse("flows:case_edit", args=[case.reference]), {"title": "x"}
            ),
            ["permission_denied"],
            "sarah",
        ),
        "role change": (
            lambda: None,
            lambda: access.set_role(other_member, access.MANAGER),
            ["role_changed"],
            "system",
        ),
        "export": (
            lambda: client.force_login(manager),
            lambda: b"".join(client.get(reverse("audit:export")).streaming_content),
            ["export"],
            "manon",
        ),
        "config change in the admin": (
            lambda: client.force_login(admin_user),
            lambda: _admin_change_status(client, default_flow),
            ["config_changed"],
            "alice",
        ),
    }


def _swallow(callable_):
    with contextlib.suppress(services.TransitionBlocked):
        callable_()


def _admin_change_status(client, flow):
    status = Status.objects.get(flow=flow, code="qualifie")
    response = client.post(
        reverse("admin:flows_status_change", args=[status.pk]),
        {
            "flow": flow.pk,
            "position": 2,
            "code": "qualifie",
            "label": "Qualifié !",
            "kind": "open",
            "color": status.color,
            "sla_days": 3,
            "wip_limit": "",
            "description": "",
            "checklist_items-TOTAL_FORMS": 0,
            "checklist_items-INITIAL_FORMS": 0,
            "checklist_items-MIN_NUM_FORMS": 0,
            "checklist_items-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302


ACTIONS = [
    "login",
    "failed login",
    "logout",
    "case created",
    "case updated",
    "move",
    "blocked move",
    "override",
    "checklist ticked",
    "checklist unticked",
    "comment",
    "owner change",
    "permission denied",
    "role change",
    "export",
    "config change in the admin",
]


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_leaves_exactly_one_event(
    name, client, member, other_member, manager, admin_user, default_flow, case
):
    table = _cases(
        client, member, other_member, manager, admin_user, default_flow, case
    )
    setup, act, expected_actions, actor = table[name]
    prepared = setup()
    act = act or prepared
    events = _events_during(act)
    # Session bookkeeping aside (a login made to prepare the test), exactly
    # the expected event.
    relevant = [
        e for e in events if e.action not in ("login",) or "login" in expected_actions
    ]
    assert [e.action for e in relevant] == expected_actions
    event = relevant[0]
    assert event.actor_label == actor
    assert "password" not in str(event.data)
    if name == "login":
        assert event.ip == "198.51.100.4" and event.user_agent == "Firefox/130"


def test_lockout_leaves_an_event(client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _failed_login(client)
    assert AuditEvent.objects.filter(action="lockout").count() >= 1
    assert (
        AuditEvent.objects.filter(action="login_failed").count()
        == settings.AXES_FAILURE_LIMIT
    )


def test_events_of_a_case_carry_it(case, member):
    services.add_comment(case, user=member, body="Bonjour")
    assert AuditEvent.objects.filter(case=case, action="comment_added").exists()
    assert AuditEvent.objects.filter(case=case, action="case_created").exists()


def test_timestamps_follow_the_clock(case, member):

    past = timezone.now() - timedelta(days=3)
    with clock.frozen_at(past):
        event = services.add_comment(case, user=member, body="Hier")
    assert AuditEvent.objects.get(action="comment_added").at == past
    assert event.created_at == past
